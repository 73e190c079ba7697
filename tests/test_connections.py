"""Connection-level sparsity of the GCG study: path scores, sampling, growth, pruning, drop-and-regrow, seed
masks, layer densities and FLOPs (plasticity.connections)."""

import itertools
import math

import pytest
import torch
from scipy import stats

from plasticity import connections as cx
from plasticity import optim
from plasticity.models import build_model


def tiny_mlp(seed: int = 0):
    torch.manual_seed(seed)
    return build_model("mlp", (1, 2, 2), (3, 2), 2)  # 4 inputs -> 3 -> 2 -> 2 outputs


def random_layer_masks(model, keep: float, seed: int):
    generator = torch.Generator().manual_seed(seed)
    return {name: (torch.rand(module.weight.shape, generator=generator) < keep).float()
            for name, module in cx.sparse_layers(model).items()}


def test_path_score_equals_a_brute_force_sum_over_every_path():
    model = tiny_mlp()
    masks = random_layer_masks(model, 0.7, seed=1)
    scores = cx.path_scores(model, masks)
    weights = [(module.weight.detach().abs() * masks[name]).double() for name, module in cx.sparse_layers(model).items()]
    widths = [weights[0].shape[1]] + [w.shape[0] for w in weights]
    expected = [torch.zeros_like(w) for w in weights]
    for path in itertools.product(*(range(width) for width in widths)):  # one unit per level: every path
        hops = [weights[l][path[l + 1], path[l]] for l in range(len(weights))]
        for l in range(len(weights)):  # the path's mass without its own hop in layer l
            expected[l][path[l + 1], path[l]] += math.prod(h for k, h in enumerate(hops) if k != l)
    for name, wanted in zip(scores, expected):
        assert scores[name].dtype == torch.float64
        torch.testing.assert_close(scores[name], wanted, rtol=1e-12, atol=0)
    assert any(bool(((1 - masks[name]) * scores[name] > 0).any()) for name in scores)  # absent ones are scored


def test_path_scores_of_a_convnet_see_every_layer_and_ignore_biases_and_pools():
    torch.manual_seed(0)
    model = build_model("convnet", (1, 8, 8), (6, 5), 3, convnet_channels=(2, 3))
    masks = cx.current_masks(model)
    scores = cx.path_scores(model, masks)
    assert set(scores) == set(cx.sparse_layers(model)) and all((s > 0).all() for s in scores.values())
    with torch.no_grad():
        for module in model.modules():
            if getattr(module, "bias", None) is not None:
                module.bias.add_(5.0)
    for name, score in cx.path_scores(model, masks).items():
        torch.testing.assert_close(score, scores[name])
    # The head's score of i -> j is the path mass reaching input i: the same for every output j.
    assert torch.allclose(scores["head"], scores["head"][:1].expand_as(scores["head"]))


def test_draws_are_proportional_to_the_score_without_replacement():
    generator = torch.Generator().manual_seed(0)
    scores = {"a": torch.tensor([1.0, 2.0, 3.0]), "b": torch.tensor([[4.0, 0.0]])}
    candidates = {"a": torch.ones(3), "b": torch.tensor([[1.0, 1.0]])}
    counts = torch.zeros(5)
    draws = 20_000
    for _ in range(draws):
        drawn = cx.draw_proportional(scores, candidates, 1, generator)
        counts += torch.cat([drawn["a"], drawn["b"].flatten()])
    assert counts[4] == 0  # score 0 is never drawn while a positive one is left
    expected = torch.tensor([1.0, 2.0, 3.0, 4.0]) / 10 * draws
    assert stats.chisquare(counts[:4].numpy(), expected.numpy()).pvalue > 1e-3
    all_five = cx.draw_proportional(scores, candidates, 5, generator)
    assert int(sum(mask.sum() for mask in all_five.values())) == 5
    no_b = cx.draw_proportional(scores, {"a": torch.tensor([1.0, 0.0, 1.0]), "b": torch.zeros(1, 2)}, 2, generator)
    assert no_b["a"].tolist() == [1.0, 0.0, 1.0] and no_b["b"].sum() == 0  # only candidates
    with pytest.raises(ValueError, match="only 2 are candidates"):
        cx.draw_proportional(scores, {"a": torch.tensor([1.0, 0.0, 1.0]), "b": torch.zeros(1, 2)}, 3, generator)


def test_growth_only_adds_the_drawn_connections_and_starts_them_as_configured():
    model = tiny_mlp()
    init_state = {key: value.clone() for key, value in model.state_dict().items()}
    masks = random_layer_masks(model, 0.4, seed=2)
    cx.set_masks(model, masks)
    generator = torch.Generator().manual_seed(3)
    added = cx.draw_proportional(cx.path_scores(model, masks), cx.absent(masks), 6, generator)
    before = {name: module.weight.detach().clone() for name, module in cx.sparse_layers(model).items()}
    cx.grow(model, added, "zero")
    after = cx.current_masks(model)
    for name, mask in after.items():
        assert torch.equal(mask, masks[name] + added[name])  # nothing removed, exactly the drawn ones added
        assert torch.equal(cx.sparse_layers(model)[name].weight.detach(), before[name])  # new ones start at 0
    assert sum(int(after[n].sum() - masks[n].sum()) for n in after) == 6
    with pytest.raises(ValueError, match="only add absent"):
        cx.grow(model, added, "zero")
    fresh = tiny_mlp()
    cx.set_masks(fresh, masks)
    cx.grow(fresh, added, "init", init_state)
    weight, initial = fresh.hidden["fc1"].linear.weight.detach(), init_state["hidden.fc1.linear.weight"]
    new = added["fc1"] > 0
    assert torch.equal(weight[new], initial[new])


def test_masked_weights_stay_zero_and_get_no_update():
    model = tiny_mlp()
    masks = random_layer_masks(model, 0.5, seed=4)
    cx.set_masks(model, masks)
    optimizer = optim.SGD(model.parameters(), lr=0.5, momentum=0.9, weight_decay=0.1, nesterov=True)
    for step in range(5):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(torch.randn(8, 1, 2, 2)), torch.arange(8) % 2).backward()
        for name, module in cx.sparse_layers(model).items():
            assert torch.all(module.weight.grad[masks[name] == 0] == 0)
        optimizer.step()
        model.enforce_connection_masks()  # what the training loop does after every step
    for name, module in cx.sparse_layers(model).items():
        assert torch.all(module.weight[masks[name] == 0] == 0)


def test_magnitude_pruning_removes_the_smallest_weights_over_all_layers():
    model = tiny_mlp()
    masks = random_layer_masks(model, 0.8, seed=5)
    cx.set_masks(model, masks)
    pruned = cx.magnitude_prune(model, masks, 5)
    present = int(sum(m.sum() for m in masks.values()))
    assert int(sum(m.sum() for m in pruned.values())) == present - 5
    layers = cx.sparse_layers(model)
    removed = torch.cat([layers[n].weight.detach().abs()[(masks[n] > 0) & (pruned[n] == 0)] for n in masks])
    kept = torch.cat([layers[n].weight.detach().abs()[pruned[n] > 0] for n in masks])
    assert all(torch.all(pruned[n] <= masks[n]) for n in masks) and removed.max() <= kept.min()


def test_rigl_and_set_keep_every_layers_density_and_rigl_regrows_the_largest_gradients():
    model = tiny_mlp()
    masks = random_layer_masks(model, 0.5, seed=6)
    cx.set_masks(model, masks)
    gradients = {name: torch.randn(module.weight.shape) for name, module in cx.sparse_layers(model).items()}
    generator = torch.Generator().manual_seed(7)
    for scores in (gradients, None):
        updated = cx.drop_and_regrow(model, masks, 0.3, scores, generator)
        for name in masks:
            assert updated[name].sum() == masks[name].sum()
    rigl = cx.drop_and_regrow(model, masks, 0.3, gradients, generator)
    grown = (rigl["fc1"] > 0) & (masks["fc1"] == 0)
    still_absent = (rigl["fc1"] == 0) & (masks["fc1"] == 0)
    assert gradients["fc1"].abs()[grown].min() >= gradients["fc1"].abs()[still_absent].max()


def test_erk_densities_reach_the_target_and_clip_at_one():
    torch.manual_seed(0)
    model = build_model("convnet", (1, 28, 28), (64, 64), 10, convnet_channels=(4, 8))
    densities = cx.erk_densities(model, 0.1)
    sizes = {name: module.weight.numel() for name, module in cx.sparse_layers(model).items()}
    assert sum(densities[n] * sizes[n] for n in sizes) == pytest.approx(0.1 * sum(sizes.values()))
    assert densities["trunk.0"] == 1.0 and all(0 < d <= 1 for d in densities.values())  # the 36-weight first conv
    unclipped = [n for n in densities if densities[n] < 1]
    shapes = {name: module.weight.shape for name, module in cx.sparse_layers(model).items()}
    ratios = [densities[n] / (sum(shapes[n]) / sizes[n]) for n in unclipped]
    assert max(ratios) == pytest.approx(min(ratios))


def test_flops_match_a_hand_count():
    model = tiny_mlp()
    masks = random_layer_masks(model, 0.5, seed=8)
    cx.set_masks(model, masks)
    counts = cx.present_counts(model)
    nnz = sum(float(m.sum()) for m in masks.values())
    positions = cx.layer_positions(model)
    assert positions == {"fc1": 1, "fc2": 1, "head": 1}
    assert cx.forward_flops(positions, counts) == 2 * nnz and cx.step_flops(positions, counts) == 6 * nnz
    assert cx.forward_flops(positions, cx.dense_counts(model)) == 2 * (4 * 3 + 3 * 2 + 2 * 2)
    torch.manual_seed(0)
    conv = build_model("convnet", (1, 28, 28), (16, 16), 10, convnet_channels=(2, 3))
    # conv1 1->2 (3x3) at 28x28, conv2 2->3 at 14x14 (after a pool), then 147 -> 16 -> 16 -> 10.
    macs = 2 * 9 * 784 + 3 * 2 * 9 * 196 + 147 * 16 + 16 * 16 + 16 * 10
    assert cx.forward_flops(cx.layer_positions(conv), cx.dense_counts(conv)) == 2 * macs


def test_phew_seed_reaches_the_density_and_leaves_no_unit_cut_off():
    torch.manual_seed(0)
    model = build_model("convnet", (1, 12, 12), (32, 16), 4, convnet_channels=(3, 5))
    masks = cx.phew_masks(model, 0.05, torch.Generator().manual_seed(1))
    assert cx.density(masks) >= 0.05
    assert torch.equal(torch.stack([m.sum() for m in masks.values()]),
                       torch.stack([m.sum() for m in cx.phew_masks(model, 0.05, torch.Generator().manual_seed(1)).values()]))
    views = [(mask.view_as(view) > 0) for mask, (_, view) in zip(masks.values(), cx.walk_views(model))]
    assert views[0].any(dim=(0, 2)).all() and views[-1].any(dim=(1, 2)).all()  # every input and output unit
    for level in range(1, len(views)):  # every hidden unit has an incoming and an outgoing connection
        assert views[level - 1].any(dim=(1, 2)).all() and views[level].any(dim=(0, 2)).all()


def test_phew_hops_follow_the_weight_magnitudes():
    # One layer of 2 output units x 1 input unit x 2 positions, |w| 1, 2 (unit 0) and 3, 4 (unit 1).
    magnitudes = [torch.tensor([[[1.0, 2.0]], [[3.0, 4.0]]], dtype=torch.float64)]
    generator = torch.Generator().manual_seed(0)
    counts = torch.zeros(2, 2)
    for _ in range(4000):
        ((layer, out_unit, in_unit, position),) = cx.walk(magnitudes, 0, 0, generator)  # forward from the input
        counts[out_unit, position] += 1
    assert stats.chisquare(counts.flatten().numpy(), [400.0, 800.0, 1200.0, 1600.0]).pvalue > 1e-3
    backward = [cx.walk(magnitudes, 1, 1, generator)[0] for _ in range(4000)]  # from output unit 1
    assert {hop[:3] for hop in backward} == {(0, 1, 0)}
    assert stats.binomtest(sum(hop[3] == 1 for hop in backward), 4000, 4 / 7).pvalue > 1e-3


def test_resnets_are_chains_the_walks_and_path_scores_go_through():
    torch.manual_seed(0)
    resnet20 = build_model("resnet20", (3, 32, 32), (), 10)
    assert sum(p.numel() for p in resnet20.parameters()) == 269_722  # He et al.'s ResNet-20
    assert len(cx.sparse_layers(resnet20)) == 20  # 19 convs and the head; option-A shortcuts have no weights
    small = build_model("resnet20", (3, 8, 8), (), 4)
    masks = cx.phew_masks(small, 0.02, torch.Generator().manual_seed(0))
    views = [(mask.view_as(view) > 0) for mask, (_, view) in zip(masks.values(), cx.walk_views(small))]
    for level in range(1, len(views)):  # no unit cut off, through every block
        assert views[level - 1].any(dim=(1, 2)).all() and views[level].any(dim=(0, 2)).all()
    scores = cx.path_scores(small, masks)
    assert all((score >= 0).all() for score in scores.values())
    resnet18 = build_model("resnet18", (3, 64, 64), (), 200)
    shortcuts = [m for m in resnet18.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (1, 1)]
    assert len(shortcuts) == 3 and len(cx.sparse_layers(resnet18)) == 18  # 17 convs and the head
    assert resnet18(torch.zeros(2, 3, 64, 64)).shape == (2, 200)
