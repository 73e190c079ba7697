"""The interventions on newborn integration (PROTOCOL.md section 5): Two-Speed, Moment Transplant, Net2Wider,
GradMax-style selection and the RSL activation, each checked against what it promises."""

import copy

import pytest
import torch
import torch.nn.functional as F

from plasticity.hooks import Edit, Hook, build_hooks
from plasticity.methods.grow import Grow, gradmax_scores
from plasticity.methods.interventions import MomentTransplant, Net2Wider, TwoSpeed, donor_pairs
from plasticity.models import RandomizedSmoothLeaky, activation_factory, build_model
from plasticity.surgery import read_state, unit_slices
from plasticity.train import CHECKPOINT
from runs import CONFIG, one_step, run_config, trainer_for
from test_config import error_of, with_value


class EditSpy(Hook):
    """Keeps every edit the run applies."""

    def __init__(self):
        self.edits = []

    def on_edit(self, trainer, edit: Edit) -> None:
        self.edits.append(edit)


def birth(trainer, layer: str, units: list[int], event: int) -> None:
    masks = trainer.model.unit_masks()
    masks[layer][units] = 1.0
    trainer.apply_edit(Edit("grow", event, masks))


def amplified_entries(trainer, births: dict[str, list[int]]) -> dict[str, torch.Tensor]:
    """Every entry of every parameter that belongs to a newborn's slices (a union: counted once)."""
    names = {param: name for name, param in trainer.model.named_parameters()}
    entries = {name: torch.zeros_like(param, dtype=torch.bool) for name, param in trainer.model.named_parameters()}
    for layer, units in births.items():
        for piece in unit_slices(trainer.model, layer):
            index = torch.tensor(units)
            piece.put(entries[names[piece.param]], index, torch.ones_like(piece.get(entries[names[piece.param]], index)))
    return entries


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_two_speed_multiplies_newborn_updates_by_r_for_n_steps_per_birth(optimizer, synthetic_dataset):
    cfg = run_config(optimizer=optimizer, momentum=0.9 if optimizer == "sgd" else 0.0,
                     grow={**CONFIG["defaults"]["grow"], "two_speed_factor": 5.0, "two_speed_steps": 3})
    hook = TwoSpeed(cfg)
    trainer = trainer_for(cfg, synthetic_dataset, [hook])
    masks = trainer.model.unit_masks()
    masks["fc1"][:8] = 0.0
    masks["fc2"][:8] = 0.0
    trainer.apply_edit(Edit("seed", 0, masks))
    birth(trainer, "fc1", [0, 1], event=1)  # window 1: steps 0, 1, 2
    first = amplified_entries(trainer, {"fc1": [0, 1]})
    both = amplified_entries(trainer, {"fc1": [0, 1], "fc2": [2, 3]})  # fc2's rows cross fc1's newborn columns
    second = amplified_entries(trainer, {"fc2": [2, 3]})
    for step in range(6):
        if step == 1:
            birth(trainer, "fc2", [2, 3], event=2)  # window 2: steps 1, 2, 3
        expected_entries = {0: first, 1: both, 2: both, 3: second}.get(step)
        plain = copy.deepcopy(trainer)  # the base update from the same state
        before = {name: p.detach().clone() for name, p in trainer.model.named_parameters()}
        one_step(plain, hooks=False)
        one_step(trainer, hooks=True)
        plain_params = dict(plain.model.named_parameters())
        for name, param in trainer.model.named_parameters():
            base = plain_params[name].detach() - before[name]
            factor = torch.ones_like(base)
            if expected_entries is not None:
                factor[expected_entries[name]] = 5.0
            assert torch.allclose(param.detach() - before[name], factor * base, atol=1e-6, rtol=1e-4), (step, name)
        grown = trainer.model.hidden["fc1"].linear.weight - before["hidden.fc1.linear.weight"]
        assert grown[:2].abs().sum() > 0
    assert hook.windows == [] and hook.amplified == {}


def grow_trainer(synthetic_dataset, **grow):
    """A Grow run at c = 50 with momentum, its seed set and a few steps taken, ready for its first birth."""
    cfg = run_config(method="grow", c=50, momentum=0.9, cycles=3, grow={**CONFIG["defaults"]["grow"], **grow})
    spy = EditSpy()
    hooks = build_hooks(cfg, "cycle")
    trainer = trainer_for(cfg, synthetic_dataset, hooks + [spy])
    trainer.call("setup")
    for _ in range(3):
        one_step(trainer, hooks=True)
    return trainer, hooks[0], spy


@pytest.mark.parametrize("rule", ["best", "ranked"])
def test_moment_transplant_gives_each_newborn_its_donors_optimizer_state(rule, synthetic_dataset):
    trainer, grow, spy = grow_trainer(synthetic_dataset, transplant=True, donor=rule)
    assert isinstance(trainer.hooks[1], MomentTransplant)
    slices = unit_slices(trainer.model, "fc1")  # incoming rows, bias, and the columns of fc2 it feeds
    momentum_before = read_state(trainer.optimizer, slices, torch.arange(32))[0]["momentum_buffer"]
    grow.on_task_start(trainer, 1)
    edit = spy.edits[-1]
    scores = edit.scores["fc1"]
    newborns = torch.nonzero(edit.added("fc1")).flatten()
    incumbents = torch.nonzero(edit.before["fc1"] > 0).flatten()
    by_score = incumbents[torch.argsort(scores[incumbents], descending=True)]
    newborns = newborns[torch.argsort(scores[newborns], descending=True)]
    if rule == "best":
        donors = by_score[:1].repeat(len(newborns))
    else:
        donors = by_score[torch.arange(len(newborns)) % len(by_score)]
    assert len(newborns) > len(incumbents) > 1  # ranked donors cycle
    for newborn_state, donor_state in zip(read_state(trainer.optimizer, slices, newborns),
                                          read_state(trainer.optimizer, slices, donors)):
        assert newborn_state.keys() == {"momentum_buffer"}
        assert torch.equal(newborn_state["momentum_buffer"], donor_state["momentum_buffer"])
    assert momentum_before[newborns].abs().sum() == 0  # masked units had no state of their own
    momentum_after = read_state(trainer.optimizer, slices, torch.arange(32))[0]["momentum_buffer"]
    untouched = [unit for unit in range(32) if unit not in set(newborns.tolist())]
    assert torch.equal(momentum_after[untouched], momentum_before[untouched])


def test_net2wider_inserts_newborns_without_changing_the_function(synthetic_dataset):
    trainer, grow, spy = grow_trainer(synthetic_dataset, insertion="net2wider", donor="ranked")
    assert isinstance(trainer.hooks[1], Net2Wider)
    x = trainer.data.test_x[:64]
    trainer.model.eval()
    with torch.no_grad():
        before = trainer.model(x)
    grow.on_task_start(trainer, 1)
    with torch.no_grad():
        after = trainer.model(x)
    edit = spy.edits[-1]
    assert all(edit.added(layer).any() for layer in ("fc1", "fc2"))
    assert torch.allclose(after, before, atol=1e-5)
    newborns, donors = donor_pairs(edit, "fc1", "ranked")
    weight = trainer.model.hidden["fc1"].linear.weight
    assert torch.equal(weight[newborns], weight[donors])

    noisy, grow, spy = grow_trainer(synthetic_dataset, insertion="net2wider", net2wider_noise=0.05)
    grow.on_task_start(noisy, 1)
    newborns, donors = donor_pairs(spy.edits[-1], "fc1", "best")
    weight = noisy.model.hidden["fc1"].linear.weight.detach()
    gap = (weight[newborns] - weight[donors]).abs().mean()
    assert 0 < gap < 0.2 * weight[donors].abs().mean()


def test_gradmax_scores_are_the_norms_of_each_units_outgoing_weight_gradient():
    torch.manual_seed(0)
    net = build_model("mlp", (1, 1, 2), (3,), 2)
    layer, head = net.hidden["fc1"].linear, net.head
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 0.1], [0.0, 2.0]]))
        layer.bias.copy_(torch.tensor([-10.0, 0.0, 0.0]))  # unit 0 never fires: its outgoing weights learn nothing
        head.weight.copy_(torch.tensor([[1.0, -1.0, 0.5], [-1.0, 1.0, -0.5]]))
        head.bias.zero_()
    net.hidden["fc1"].mask.zero_()
    x = torch.tensor([[1.0, 1.0], [0.5, 2.0], [2.0, 0.5]]).view(3, 1, 1, 2)
    y = torch.tensor([1, 0, 1])
    scores = gradmax_scores(net, x, y, tau=0.05)["fc1"]
    h = torch.relu(x.flatten(1) @ layer.weight.detach().T + layer.bias.detach())
    delta = (torch.softmax(h @ head.weight.detach().T, dim=1) - F.one_hot(y, 2)) / len(y)
    assert torch.allclose(scores, (delta.T @ h).norm(dim=0), atol=1e-6)
    assert scores[0] == 0 and scores.argsort(descending=True).tolist() == [2, 1, 0]
    assert net.hidden["fc1"].mask.sum() == 0  # the temporary unmasking is undone


def test_rsl_matches_its_formula_draws_r_in_its_range_and_is_fixed_in_evaluation():
    rsl = RandomizedSmoothLeaky(c=3.0, p=5.0, lower=0.125, upper=0.333)
    rsl.generator = torch.Generator().manual_seed(0)
    x = torch.linspace(-4, 4, 2001).reshape(1, -1)
    x = x[x != 0].reshape(1, -1)
    s = torch.sigmoid(3.0 * x / 5.0)
    train = rsl(x)
    r = (train - x * s) / (x * (1 - s))  # invert f(x) = r x + (1 - r) x s
    assert r.min() >= 0.125 - 1e-4 and r.max() <= 0.333 + 1e-4 and r.std() > 0.05
    rsl.eval()
    midpoint = (0.125 + 0.333) / 2
    assert torch.allclose(rsl(x), midpoint * x + (1 - midpoint) * x * s)
    assert torch.equal(rsl(x), rsl(x))
    net = build_model("convnet", (1, 28, 28), (16, 16, 8), 10, (4, 8), activation_factory("rsl", CONFIG["defaults"]["rsl"]))
    assert sum(isinstance(m, RandomizedSmoothLeaky) for m in net.modules()) == 3  # 2 trunk convs + the shared FC one
    assert not any(isinstance(m, torch.nn.ReLU) for m in net.modules())


def test_rsl_draws_each_element_its_slope_whatever_the_memory_layout():
    # The conv trunk runs channels-last; RSL's output keeps that layout (a contiguous one slowed every pool and conv
    # after it) and draws the same r for each element as for the NCHW tensor, so runs are what they were before.
    rsl = RandomizedSmoothLeaky(c=3.0, p=5.0, lower=0.125, upper=0.333)
    x = torch.randn(4, 3, 5, 5)
    rsl.generator = torch.Generator().manual_seed(0)
    nchw = rsl(x)
    rsl.generator = torch.Generator().manual_seed(0)
    channels_last = rsl(x.contiguous(memory_format=torch.channels_last))
    assert channels_last.is_contiguous(memory_format=torch.channels_last) and not channels_last.is_contiguous()
    assert torch.equal(channels_last, nchw)


def test_an_rsl_run_resumes_with_the_same_random_draws(synthetic_dataset, tmp_path):
    cfg = run_config(activation="rsl", cycles=3)
    uninterrupted = trainer_for(cfg, synthetic_dataset, build_hooks(cfg, "cycle"))
    uninterrupted.run()
    first = trainer_for(cfg, synthetic_dataset, build_hooks(cfg, "cycle"))
    first.total_epochs = 2  # two of the three epochs, checkpointed: a run killed there
    first.run(tmp_path / CHECKPOINT)
    resumed = trainer_for(cfg, synthetic_dataset, build_hooks(cfg, "cycle"))
    resumed.run(tmp_path / CHECKPOINT)
    assert resumed.epoch == 3
    for name, value in uninterrupted.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[name], value), name
    other_seed = trainer_for(run_config(activation="rsl", cycles=3, seed=2), synthetic_dataset, [])
    other_seed.run()
    assert not torch.equal(other_seed.model.head.weight, uninterrupted.model.head.weight)


def test_interventions_are_built_after_the_method_in_a_fixed_order():
    grow = {**CONFIG["defaults"]["grow"], "insertion": "net2wider", "transplant": True, "two_speed_factor": 3.0}
    cfg = run_config(method="grow", c=50, momentum=0.9, grow=grow, probe={**CONFIG["defaults"]["probe"], "enabled": True})
    names = [type(hook).__name__ for hook in build_hooks(cfg, "cycle")]
    assert names == ["Grow", "Net2Wider", "MomentTransplant", "TwoSpeed", "Hook", "NewbornProbe"]
    assert [type(h).__name__ for h in build_hooks(run_config(method="grow", c=50), "cycle")] == ["Grow", "Hook"]


def test_config_refuses_interventions_whose_preconditions_fail():
    raw = with_value("defaults.grow.transplant", True)
    assert "SGD without momentum keeps none" in error_of(raw)
    raw = with_value("defaults.activation", "rsl")
    raw["settings"]["mnist_iid"]["regularizer"] = {"kind": "swr", "strength": 0.1, "head_strength": 0.1}
    message = error_of(raw)
    assert "positively homogeneous" in message and "setting mnist_iid" in message
    assert "ReLU only" in message  # the GCG ResNets
    raw = with_value("defaults.rsl", {"c": 1.0, "p": 1.0, "lower": 0.6, "upper": 0.3})
    raw["defaults"]["activation"] = "rsl"
    assert "rsl.lower 0.6 is above rsl.upper 0.3" in error_of(raw)
    assert "two_speed_factor" in error_of(with_value("defaults.grow.two_speed_factor", 0))
