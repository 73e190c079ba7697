"""The science of the training core: masks, budgets, Grow, Prune, TinyER, tickets, determinism."""

import copy

import pandas as pd
import pytest
import torch

from plasticity.masks import edit_count, unit_targets
from plasticity.hooks import Hook
from plasticity.methods import layer_targets
from plasticity.methods.grow import Grow, activation_scores
from plasticity.methods.prune import Prune
from plasticity.models import build_model
from plasticity.run import RunConfig
from plasticity.streams import ReplayBuffer, Stream
from plasticity.train import Tensors, Trainer, init_model, retrain_ticket, ticket_model, train_run
from runs import make_run

CONVNET_FC = [(4096, 512), (512, 512), (512, 256)]


def run_config(**overrides) -> RunConfig:
    values = dict(setting="test", method="grow", c=30, seed=3, dataset="synthetic",
                  hidden=(64, 64), cycles=5, epochs_per_cycle=1, lr=0.05)
    values.update(overrides)
    return make_run(**values)


def trainer_for(cfg: RunConfig, dataset_path, method: Hook) -> Trainer:
    data = Tensors.load(cfg, dataset_path, torch.device("cpu"))
    return Trainer(cfg, data, init_model(cfg, data), [method], phase="cycle")


def test_masked_unit_outputs_zero_and_gets_no_gradient():
    torch.manual_seed(0)  # the checks below need unit 2 alive on this input
    model = build_model("mlp", (1, 28, 28), (16, 16), 10)
    model.hidden["fc1"].mask[3] = 0.0
    record = {}
    out = model(torch.randn(8, 1, 28, 28), record)
    out.sum().backward()
    fc1 = model.hidden["fc1"]
    # What fc2 receives from unit 3 is zero: changing its incoming weights leaves the output unchanged.
    with torch.no_grad():
        fc1.linear.weight[3] += 100.0
        fc1.linear.bias[3] += 100.0
    assert torch.equal(model(torch.zeros(1, 1, 28, 28)), model(torch.zeros(1, 1, 28, 28)))
    assert torch.all(fc1.linear.weight.grad[3] == 0) and fc1.linear.bias.grad[3] == 0
    assert torch.all(model.hidden["fc2"].linear.weight.grad[:, 3] == 0)
    assert fc1.linear.weight.grad[2].abs().sum() > 0


def test_neutral_budget_keeps_round_c_of_each_layer():
    assert unit_targets([(784, 256), (256, 256)], 0.3, (1.0, 1.0)) == [77, 77]
    assert unit_targets([(784, 256), (256, 256)], 0.5, (1.0, 1.0)) == [128, 128]


def test_allocation_schedules_give_hand_computed_targets():
    # FC1-Protect at c=0.2: nothing clips; f = B b_l / sum_k b_k M_k = 0.20652 (FC1, FC2) and 0.08261 (FC3).
    assert unit_targets(CONVNET_FC, 0.2, (1.5, 1.5, 0.6)) == [106, 106, 21]
    # FC3-Protect at c=0.5: FC3's share exceeds its size, so it keeps all 256 units and its excess
    # goes to FC1 and FC2: f = (B - M_3) / (M_1 + M_2) = 1114112 / 2359296 = 0.4722.
    assert unit_targets(CONVNET_FC, 0.5, (0.6, 0.6, 1.5)) == [242, 242, 256]


def test_edit_count_spreads_the_rest_over_the_remaining_events():
    assert [edit_count(q, t, 4, 1000) for q, t in [(100, 0), (75, 1), (50, 2), (25, 3)]] == [25, 25, 25, 25]
    assert edit_count(10, 0, 4, 2) == 2  # never more than are available


@pytest.mark.parametrize("method", ["grow", "prune"])
def test_methods_reach_the_target_exactly_at_the_last_cycle(method, synthetic_dataset, tmp_path):
    cfg = run_config(method=method, hidden=(256, 256), c=30)
    train_run(cfg, synthetic_dataset, tmp_path)
    epochs = pd.read_csv(tmp_path / "epochs.csv")
    units = epochs.groupby("cycle")["active_units"].agg(["min", "max"])
    assert (units["min"] == units["max"]).all()  # masks change only at cycle boundaries
    per_cycle = units["min"].tolist()
    assert per_cycle[-1] == 2 * 77
    assert all(count != 2 * 77 for count in per_cycle[:-1])
    steps = pd.Series(per_cycle).diff().dropna()
    assert (steps > 0).all() if method == "grow" else (steps < 0).all()
    events = pd.read_csv(tmp_path / "events.csv")
    final = events[events["event"] == cfg.cycles - 1]
    assert (final["active_after"] == final["target"]).all() and (final["target"] == 77).all()


def test_grow_seed_mask_is_ten_percent_and_activates_top_scoring_units(synthetic_dataset):
    cfg = run_config(method="grow", hidden=(64, 64), c=50)
    grow = Grow(cfg)
    trainer = trainer_for(cfg, synthetic_dataset, grow)
    grow.setup(trainer)
    fc1 = trainer.model.hidden["fc1"]
    assert int(fc1.mask.sum()) == 6  # round(0.1 * 64)
    inactive = torch.nonzero(fc1.mask == 0).flatten()
    favoured = inactive[:10]
    with torch.no_grad():  # favoured units fire on every sample, the other inactive units never
        fc1.linear.bias[inactive] = -1e3
        fc1.linear.bias[favoured] = 1e3
    x, y = trainer.sample_batch(1, 128, torch.Generator().manual_seed(0))
    scores = activation_scores(trainer.model, x, y, tau=0.05)["fc1"]
    assert torch.all(scores[favoured] == 1) and torch.all(scores[inactive[10:]] == 0)
    trainer.task = 1
    grow.on_task_start(trainer, 1)
    newborns = torch.nonzero(fc1.mask).flatten()
    n = edit_count(32 - 6, 0, 4, len(inactive))  # target round(0.5 * 64) = 32
    assert len(newborns) == 6 + n and n == 7
    assert set(newborns.tolist()) - set(torch.nonzero(fc1.mask).flatten().tolist()) == set()
    assert len(set(newborns.tolist()) & set(favoured.tolist())) == n


def test_newborns_enter_with_their_initial_weights(synthetic_dataset, tmp_path):
    cfg = run_config(method="grow", c=50)
    grow = Grow(cfg)
    trainer = trainer_for(cfg, synthetic_dataset, grow)
    grow.setup(trainer)
    trainer.train_epoch(0)
    inactive = torch.nonzero(trainer.model.hidden["fc1"].mask == 0).flatten()
    weights = trainer.model.hidden["fc1"].linear.weight.detach()
    assert torch.equal(weights[inactive], trainer.init_state["hidden.fc1.linear.weight"][inactive])


def test_prune_removes_lowest_magnitude_units_and_rewinds_survivors(synthetic_dataset):
    cfg = run_config(method="prune", hidden=(64, 64), c=50)
    prune = Prune(cfg)
    trainer = trainer_for(cfg, synthetic_dataset, prune)
    prune.setup(trainer)
    trainer.train_epoch(0)
    weak = torch.tensor([5, 17, 30, 41, 50, 60, 63, 0])
    with torch.no_grad():
        trainer.model.hidden["fc1"].linear.weight[weak] *= 1e-3
    prune.on_task_start(trainer, 1)
    mask = trainer.model.hidden["fc1"].mask
    assert edit_count(64 - 32, 0, 4, 64) == 8
    assert torch.nonzero(mask == 0).flatten().sort().values.tolist() == weak.sort().values.tolist()
    for name, value in trainer.model.state_dict().items():
        if not name.endswith(".mask"):
            assert torch.equal(value, trainer.init_state[name]), name


def test_replay_buffer_stays_balanced_within_its_cap():
    labels = torch.arange(10).repeat_interleave(100)
    buffer = ReplayBuffer(per_class=50, cap=200, generator=torch.Generator().manual_seed(0))
    expected_quota = {2: 50, 4: 50, 6: 33, 8: 25, 10: 20}
    for first in range(0, 10, 2):
        candidates = torch.nonzero((labels == first) | (labels == first + 1)).flatten()
        buffer.add_classes(labels, candidates, [first, first + 1])
        counts = torch.bincount(labels[buffer.indices()], minlength=10)
        seen = first + 2
        assert len(buffer) <= 200
        assert counts[:seen].tolist() == [expected_quota[seen]] * seen
        assert counts[seen:].sum() == 0


def test_split_stream_mixes_half_replay_from_the_second_task(synthetic_dataset):
    cfg = run_config(stream="split", tasks=5, batch_size=64)
    data = Tensors.load(cfg, synthetic_dataset, torch.device("cpu"))
    stream = Stream(cfg, data.train_y, data.classes)
    first = stream.epoch_batches(0)
    assert all(set(data.train_y[b].tolist()) <= set(stream.tasks[0]) for b in first)
    stream.end_task(0)
    for batch in stream.epoch_batches(1)[:-1]:
        labels = data.train_y[batch]
        assert len(batch) == 64
        assert set(labels[:32].tolist()) <= set(stream.tasks[1])
        assert set(labels[32:].tolist()) <= set(stream.tasks[0])
    assert stream.eval_classes(1) == sorted(stream.tasks[0] + stream.tasks[1])


def test_task_order_depends_on_seed_but_not_on_method(synthetic_dataset):
    orders = {(seed, method): Stream(run_config(stream="split", tasks=5, seed=seed, method=method),
                                     torch.arange(10), 10).tasks
              for seed in (1, 2) for method in ("grow", "prune")}
    assert orders[1, "grow"] == orders[1, "prune"]
    assert orders[1, "grow"] != orders[2, "grow"]


@pytest.mark.parametrize("method", ["grow", "dense"])
def test_ticket_starts_from_the_original_init_with_the_final_mask(method, synthetic_dataset, tmp_path):
    cfg = run_config(method=method, c=100 if method == "dense" else 30)
    train_run(cfg, synthetic_dataset, tmp_path)
    source = torch.load(tmp_path / "state.pt", weights_only=True)
    ticket_cfg = run_config(method=method, c=30)
    data = Tensors.load(ticket_cfg, synthetic_dataset, torch.device("cpu"))
    model = ticket_model(ticket_cfg, data, source)
    for name, value in model.state_dict().items():
        if not name.endswith(".mask"):
            assert torch.equal(value, source["init_state"][name]), name
    targets = layer_targets(model, ticket_cfg)
    assert {n: int(m.sum()) for n, m in model.unit_masks().items()} == targets
    if method == "grow":
        assert all(torch.equal(model.unit_masks()[n], source["final_masks"]["units"][n]) for n in targets)
    else:  # the dense ticket keeps the units with the largest final incoming magnitude
        final_fc1 = source["final_state"]["hidden.fc1.linear.weight"].abs().mean(dim=1)
        kept = torch.nonzero(model.unit_masks()["fc1"]).flatten()
        assert set(kept.tolist()) == set(final_fc1.topk(targets["fc1"]).indices.tolist())
    retrain_ticket(ticket_cfg, synthetic_dataset, tmp_path / "state.pt", tmp_path / "ticket")
    ticket = pd.read_csv(tmp_path / "ticket" / "epochs.csv")
    assert len(ticket) == cfg.total_epochs and (ticket["active_units"] == sum(targets.values())).all()


def test_same_seed_gives_identical_tables_whatever_ran_before_in_the_process(synthetic_dataset, tmp_path):
    # A job of several seeds (seeds_per_job) trains its runs one after another in one process: a run must not
    # depend on what the process trained before it (global RNGs, module state).
    cfg = run_config(method="grow", stream="split", tasks=5)
    train_run(cfg, synthetic_dataset, tmp_path / "a")
    train_run(run_config(method="grow", stream="split", tasks=5, seed=4), synthetic_dataset, tmp_path / "c")
    train_run(run_config(method="prune", c=50, activation="rsl", seed=2), synthetic_dataset, tmp_path / "d")
    train_run(cfg, synthetic_dataset, tmp_path / "b")
    for table in ("epochs.csv", "events.csv"):
        assert (tmp_path / "a" / table).read_bytes() == (tmp_path / "b" / table).read_bytes()
    assert (tmp_path / "a" / "epochs.csv").read_bytes() != (tmp_path / "c" / "epochs.csv").read_bytes()


def test_training_learns_the_synthetic_task(synthetic_dataset, tmp_path):
    train_run(run_config(method="dense", c=100, epochs_per_cycle=2, lr=0.05, lr_schedule="constant"), synthetic_dataset,
              tmp_path)
    accuracy = pd.read_csv(tmp_path / "epochs.csv")["test_acc"]
    assert accuracy.iloc[-1] > 0.5 and accuracy.iloc[-1] > accuracy.iloc[0]


def test_fresh_ticket_init_draws_new_weights_but_keeps_the_mask(synthetic_dataset, tmp_path):
    train_run(run_config(method="grow"), synthetic_dataset, tmp_path)
    source = torch.load(tmp_path / "state.pt", weights_only=True)
    cfg = run_config(method="grow", ticket_init="fresh")
    model = ticket_model(cfg, Tensors.load(cfg, synthetic_dataset, torch.device("cpu")), source)
    weight = "hidden.fc1.linear.weight"
    assert not torch.equal(model.state_dict()[weight], source["init_state"][weight])
    assert all(torch.equal(mask, source["final_masks"]["units"][name]) for name, mask in model.unit_masks().items())


@pytest.mark.parametrize(("shape", "flat"), [((3, 32, 32), 4096), ((1, 28, 28), 3136)])
def test_convnet_flatten_size_follows_the_input(shape, flat):
    model = build_model("convnet", shape, (512, 512, 256), 100)
    assert model.hidden["fc1"].fan_in == flat
    assert [layer.units for layer in model.hidden.values()] == [512, 512, 256]
    assert model(torch.zeros(2, *shape)).shape == (2, 100)
    # Only the three FC layers are masked: the conv trunk has no masks.
    assert [name for name, _ in model.named_buffers()] == ["hidden.fc1.mask", "hidden.fc2.mask", "hidden.fc3.mask"]


def test_convnet_channels_set_the_trunk_widths_from_the_run_config(synthetic_dataset):
    cfg = run_config(model="convnet", hidden=(32, 32, 16), convnet_channels=(8, 12))
    data = Tensors.load(cfg, synthetic_dataset, torch.device("cpu"))
    convs = [m for m in init_model(cfg, data).trunk if isinstance(m, torch.nn.Conv2d)]
    assert [(conv.in_channels, conv.out_channels) for conv in convs] == [(1, 8), (8, 12)]
    assert RunConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize("kind", ["convnet", "cnn_bn", "resnet20"])
def test_channels_last_trunk_computes_what_nchw_does(kind):
    # build_model lays the trunk out channels-last for speed: logits and gradients must be NCHW's up to float
    # rounding (float64 here, so a tight tolerance), and the features reach the FC layers in channel-major order.
    torch.manual_seed(0)
    ours = build_model(kind, (1, 28, 28), (64, 32), 10).double()
    conv = [m for m in ours.trunk.modules() if isinstance(m, torch.nn.Conv2d)][-1]  # the first has 1 input channel
    assert conv.weight.is_contiguous(memory_format=torch.channels_last) and not conv.weight.is_contiguous()
    reference = copy.deepcopy(ours)
    reference.trunk.to(memory_format=torch.contiguous_format)

    def nchw_forward(x):
        h = reference.trunk(x).flatten(1)
        for layer in reference.hidden.values():
            h = reference.act(layer.project(h)) * layer.mask
        return reference.head(h)

    x = torch.randn(32, 1, 28, 28, dtype=torch.float64)
    torch.testing.assert_close(ours(x), nchw_forward(x), rtol=1e-9, atol=1e-12)
    torch.nn.functional.cross_entropy(ours(x), torch.arange(32) % 10).backward()
    torch.nn.functional.cross_entropy(nchw_forward(x), torch.arange(32) % 10).backward()
    for mine, theirs in zip(ours.parameters(), reference.parameters()):
        torch.testing.assert_close(mine.grad, theirs.grad, rtol=1e-9, atol=1e-12)


def test_a_masked_conv_of_one_input_channel_keeps_the_trunk_channels_last():
    # A weight of one input channel is both NCHW- and channels-last-contiguous, and weight * mask takes NCHW strides;
    # with them the conv's output and every op after it went NCHW (GCG's Fashion-MNIST CNN, 1.2-1.6x slower).
    net = build_model("cnn_bn", (1, 28, 28), (16,), 10)
    first = net.trunk[0]
    net.set_connection_mask("trunk.0", (torch.rand(first.weight.shape) < 0.5).float())
    layouts = []
    for module in net.trunk:
        module.register_forward_hook(lambda module, inputs, out: layouts.append(
            (type(module).__name__, out.is_contiguous(memory_format=torch.channels_last) and not out.is_contiguous())))
    net(torch.randn(8, 1, 28, 28)).sum().backward()
    assert layouts and all(channels_last for _, channels_last in layouts), layouts
    assert torch.equal(first.weight.grad * (1 - first.weight_mask), torch.zeros_like(first.weight))


def test_crop_flip_gives_each_image_a_shifted_and_maybe_flipped_crop_of_its_padded_copy():
    from plasticity.train import crop_flip

    x = torch.randn(16, 3, 8, 8)
    out = crop_flip(x, torch.Generator().manual_seed(0))
    padded = torch.nn.functional.pad(x, (4, 4, 4, 4))
    flipped = 0
    for i in range(16):
        crops = [padded[i, :, dy:dy + 8, dx:dx + 8] for dy in range(9) for dx in range(9)]
        plain, mirrored = (any(torch.equal(out[i], c) for c in crops),
                           any(torch.equal(out[i], c.flip(-1)) for c in crops))
        assert plain or mirrored
        flipped += mirrored and not plain
    assert 0 < flipped < 16
    assert torch.equal(out, crop_flip(x, torch.Generator().manual_seed(0)))  # the generator decides
