"""The SWR study (PROTOCOL.md section 7): Soft Weight Rescaling, its baselines, streams and validation split."""

import copy
import math
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import torch
import yaml
from torch import nn

from plasticity.config import load_config, run_grid, study_plan
from plasticity.config import run_config as resolved_run
from plasticity.hooks import Hook, build_hooks
from plasticity.methods.regularizers import L2, HeadReset, L2Init, ShrinkPerturb, SoftWeightRescaling
from plasticity.models import build_model
from plasticity.run import RunConfig
from plasticity.streams import Stream, seed_for, validation_split
from plasticity.swr import select_strengths, single_task_table
from plasticity.train import Tensors, Trainer, init_model, train_run
from runs import make_run


def run_config(**overrides) -> RunConfig:
    values = dict(setting="test", method="dense", c=100, seed=2, dataset="synthetic", model="mlp", hidden=(32, 32),
                  cycles=2, epochs_per_cycle=1, batch_size=64, optimizer="adam", lr=1e-3)
    values.update(overrides)
    return make_run(**values)


def swr(strength: float, head_strength: float, **overrides) -> RunConfig:
    return run_config(regularizer={"kind": "swr", "strength": strength, "head_strength": head_strength}, **overrides)


def trainer_for(cfg: RunConfig, dataset_path) -> Trainer:
    data = Tensors.load(cfg, dataset_path, torch.device("cpu"))
    return Trainer(cfg, data, init_model(cfg, data), build_hooks(cfg, "cycle"), phase="cycle")


def regularizer_of(trainer: Trainer) -> Hook:
    return trainer.hooks[1]  # the loop's order: the unit-edit method, then the regulariser (plasticity.hooks)


@torch.no_grad()
def perturb(model: nn.Module, generator: torch.Generator, scale: float = 0.5) -> None:
    """A stand-in for training: random changes of every parameter (norms move away from n_l), zero biases
    included (VGG-16 starts with them)."""
    for parameter in model.parameters():
        size = parameter.abs().mean() + 0.01
        parameter.add_(scale * torch.randn(parameter.shape, generator=generator) * size)


@pytest.fixture(scope="module")
def rgb32_dataset(tmp_path_factory) -> Path:
    """CIFAR-shaped synthetic images: VGG-16's five max-pools need at least 32 x 32 pixels."""
    from plasticity.data import prepare_dataset

    folder = tmp_path_factory.mktemp("rgb32")
    spec = {"source": "synthetic", "classes": 10, "train_size": 64, "test_size": 128, "seed": 0, "shape": [3, 32, 32]}
    prepare_dataset("synthetic", spec, folder / "raw", folder / "rgb32.pt")
    return folder / "rgb32.pt"


@pytest.mark.parametrize("model, dataset", [("cnn", "synthetic_dataset"), ("cnn_bn", "synthetic_dataset"),
                                            ("mlp", "synthetic_dataset"), ("vgg16", "rgb32_dataset")])
def test_one_swr_step_scales_the_logits_and_keeps_the_predicted_classes(model, dataset, request):
    trainer = trainer_for(swr(0.5, 0.3, model=model, hidden=(24,)), request.getfixturevalue(dataset))
    regularizer_of(trainer).setup(trainer)
    perturb(trainer.model, torch.Generator().manual_seed(0))
    with torch.no_grad():
        trainer.model.head.weight.mul_(4.0)  # far from its initial norm: a strong rescale
    # BatchNorm in training mode (batch statistics), where the rescaling is exactly invisible.
    x = trainer.data.test_x[:128]
    with torch.no_grad():
        before = trainer.model(x)
        regularizer_of(trainer).after_step(trainer)
        after = trainer.model(x)
    assert torch.equal(before.argmax(dim=1), after.argmax(dim=1))
    # One positive factor C_L for every logit (up to float error, which matters for logits near zero).
    factor = (after * before).sum() / (before * before).sum()
    assert torch.allclose(after, factor * before, rtol=1e-3, atol=1e-4 * before.abs().max().item())
    assert 0 < factor < 1  # the head was too large: SWR shrinks it


def test_swr_keeps_every_weight_norm_below_the_bound(synthetic_dataset):
    # After an update of norm at most d, ||W'|| = lambda n + (1 - lambda) ||W + update||, so by induction
    # ||W|| <= n + (1 - lambda) d / lambda for ever. Vanilla's norm grows with the number of updates.
    strength, head_strength, d = 0.05, 0.2, 0.5
    trainer = trainer_for(swr(strength, head_strength), synthetic_dataset)
    regularizer_of(trainer).setup(trainer)
    vanilla = copy.deepcopy(trainer.model)
    generator = torch.Generator().manual_seed(1)
    for _ in range(300):
        for model in (trainer.model, vanilla):
            with torch.no_grad():
                for layer in model.weight_layers():
                    update = torch.randn(layer.module.weight.shape, generator=generator) + 0.3  # a drift
                    layer.module.weight.add_(d * update / update.norm())
        regularizer_of(trainer).after_step(trainer)
    for layer, free in zip(trainer.model.weight_layers(), vanilla.weight_layers()):
        lam = head_strength if layer.group == "classifier" else strength
        n = regularizer_of(trainer).reference_norms[layer.name]
        bound = n + (1 - lam) * d / lam
        assert layer.module.weight.norm() <= bound + 1e-4
        assert free.module.weight.norm() > bound  # without SWR the same updates break it


def tiny_trainer(cfg: RunConfig, dataset_path) -> Trainer:
    trainer = trainer_for(cfg, dataset_path)
    perturb(trainer.model, torch.Generator().manual_seed(2))
    return trainer


def test_l2_adds_the_gradient_of_half_lambda_squared_norm(synthetic_dataset):
    cfg = run_config(regularizer={"kind": "l2", "strength": 0.01})
    trainer = tiny_trainer(cfg, synthetic_dataset)
    L2().penalty(trainer).backward()
    for parameter in trainer.model.parameters():
        assert torch.allclose(parameter.grad, 0.01 * parameter.detach())


def test_l2_init_adds_the_gradient_of_half_lambda_squared_distance_to_the_initialisation(synthetic_dataset):
    cfg = run_config(regularizer={"kind": "l2_init", "strength": 0.01})
    trainer = tiny_trainer(cfg, synthetic_dataset)
    L2Init().penalty(trainer).backward()
    for name, parameter in trainer.model.named_parameters():
        assert torch.allclose(parameter.grad, 0.01 * (parameter.detach() - trainer.init_state[name]))


def test_shrink_perturb_moves_towards_the_initialisation_at_data_changes_only(synthetic_dataset):
    cfg = run_config(regularizer={"kind": "shrink_perturb", "strength": 0.3})
    trainer = tiny_trainer(cfg, synthetic_dataset)
    before = copy.deepcopy(dict(trainer.model.named_parameters()))
    plugin = ShrinkPerturb()
    plugin.after_step(trainer)
    assert plugin.penalty(trainer) == 0.0
    assert all(torch.equal(p, before[name]) for name, p in trainer.model.named_parameters())
    plugin.on_task_start(trainer, 1)
    for name, parameter in trainer.model.named_parameters():
        assert torch.allclose(parameter, 0.7 * before[name] + 0.3 * trainer.init_state[name])


def test_head_reset_reinitialises_the_head_and_nothing_else(synthetic_dataset):
    cfg = run_config(regularizer={"kind": "head_reset"})
    trainer = tiny_trainer(cfg, synthetic_dataset)
    before = copy.deepcopy(trainer.model.state_dict())
    HeadReset().on_task_start(trainer, 1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed_for(cfg.seed, "head-reset:1"))
        fresh = nn.Linear(32, 10)
    after = trainer.model.state_dict()
    assert torch.equal(after["head.weight"], fresh.weight) and torch.equal(after["head.bias"], fresh.bias)
    assert not torch.equal(after["head.weight"], before["head.weight"])
    assert all(torch.equal(after[k], before[k]) for k in before if not k.startswith("head."))


class LrDecaySpy(SoftWeightRescaling):
    def __init__(self, cfg):
        super().__init__(cfg)
        self.decays = []

    def on_lr_change(self, trainer, old: float, new: float) -> None:
        self.decays.append(trainer.epoch)
        super().on_lr_change(trainer, old, new)


def test_swr_reinit_resets_the_reference_norms_when_the_learning_rate_decays(synthetic_dataset):
    cfg = run_config(regularizer={"kind": "swr_reinit", "strength": 0.1, "head_strength": 0.1}, cycles=1, epochs_per_cycle=4,
                     lr_schedule="step", lr_milestones=(2, 3), lr_gamma=0.1)
    data = Tensors.load(cfg, synthetic_dataset, torch.device("cpu"))
    spy = LrDecaySpy(cfg)
    trainer = Trainer(cfg, data, init_model(cfg, data), [Hook(), spy], phase="cycle")
    assert [trainer.lr_at(e) for e in range(4)] == pytest.approx([1e-3, 1e-3, 1e-4, 1e-5])
    trainer.run()
    assert spy.decays == [2, 3]  # at the start of the epochs whose LR is lower
    current = SoftWeightRescaling.current_norms(trainer)
    assert spy.reference_norms != current  # reset at epoch 3's start, then trained one more epoch
    spy.on_lr_change(trainer, 1e-4, 1e-5)
    assert spy.reference_norms == current
    plain = SoftWeightRescaling(swr(0.1, 0.1))
    plain.setup(trainer)
    plain.reference_norms = {name: 1.0 for name in current}
    plain.on_lr_change(trainer, 1e-4, 1e-5)
    assert all(value == 1.0 for value in plain.reference_norms.values())


def test_warm_start_and_chunk_streams_train_the_right_indices():
    labels = torch.arange(1000) % 10
    warm = Stream(run_config(stream="warm_start", cycles=2), labels, 10)
    assert len(warm.task_indices(0)) == 500 and torch.equal(warm.task_indices(1), torch.arange(1000))
    full = Stream(run_config(stream="chunks", cycles=10, access="full"), labels, 10)
    limited = Stream(run_config(stream="chunks", cycles=10, access="limited"), labels, 10)
    previous = torch.arange(0)
    for k in range(10):
        chunk = limited.task_indices(k)
        assert len(chunk) == 100 and not torch.isin(chunk, previous).any()  # disjoint chunks
        previous = torch.cat([previous, chunk])
        assert torch.equal(full.task_indices(k), torch.sort(previous).values)  # chunks 1..k
        assert full.eval_classes(k) == list(range(10))
    assert torch.equal(torch.sort(previous).values, torch.arange(1000))


def test_validation_split_is_fixed_class_balanced_and_disjoint_from_training():
    labels = torch.arange(2000) % 10
    training, validation = validation_split(labels, 0.1)
    assert len(validation) == 200 and (torch.bincount(labels[validation]) == 20).all()
    assert not torch.isin(validation, training).any() and len(training) + len(validation) == 2000
    assert torch.equal(validation_split(labels, 0.1)[1], validation)
    assert len(validation_split(labels, 0.0)[1]) == 0


def test_a_swr_run_records_validation_accuracy_and_weight_norms(synthetic_dataset, tmp_path):
    cfg = swr(0.1, 0.1, model="cnn_bn", hidden=(16,), stream="chunks", access="limited", cycles=2,
              val_fraction=0.1, record_norms=True)
    train_run(cfg, synthetic_dataset, tmp_path)
    epochs = pd.read_csv(tmp_path / "epochs.csv")
    assert epochs["val_acc"].between(0, 1).all() and len(epochs) == 2
    norms = pd.read_csv(tmp_path / "norms.csv")
    assert sorted(norms["epoch"].unique()) == [0, 1, 2]
    assert set(norms["layer"]) == {"trunk.0", "trunk.1", "trunk.4", "trunk.5", "fc1", "head"}
    assert not math.isnan(norms["weight_norm"].sum())


def swr_runs() -> pd.DataFrame:
    """Two L2 grid points whose validation and test accuracies disagree, vanilla and SWR; 3 seeds each."""
    points = [  # setting, regularizer, strength, head_strength, val, test
        ("b", "none", 0.0, 0.0, 0.80, 0.79),
        ("b-l2-0.1", "l2", 0.1, 0.0, 0.85, 0.70),  # best validation, worse test
        ("b-l2-0.01", "l2", 0.01, 0.0, 0.75, 0.90),  # best test: must not be picked
        ("b-swr-0.01-0.1", "swr", 0.01, 0.1, 0.86, 0.84),
    ]
    rows = [{"setting": setting, "method": "dense", "c": 100, "seed": seed, "base_setting": "b", "model": "mlp",
             "dataset": "fashion_mnist", "lr_schedule": "constant", "regularizer.kind": kind,
             "regularizer.strength": strength, "regularizer.head_strength": head, "val_acc": val + 0.01 * seed,
             "cycle_acc": test + 0.01 * seed}
            for setting, kind, strength, head, val, test in points for seed in (1, 2, 3)]
    return pd.DataFrame(rows)


def test_lambda_selection_picks_the_best_validation_not_test_accuracy():
    selected = select_strengths(swr_runs())
    assert sorted(selected["setting"].unique()) == ["b", "b-l2-0.1", "b-swr-0.01-0.1"]
    assert len(selected) == 9


def test_single_task_table_reports_the_selected_lambda_per_regulariser():
    tidy, formatted = single_task_table(swr_runs())
    l2 = tidy[tidy["regularizer"] == "l2"].iloc[0]
    assert l2["selected_setting"] == "b-l2-0.1" and l2["mean"] == pytest.approx(0.72) and l2["n"] == 3
    assert list(formatted.columns) == ["Model", "Dataset", "LR schedule", "Vanilla", "L2", "SWR"]
    assert formatted.iloc[0]["L2"].startswith("72.00 ± ")


def test_selection_refuses_runs_without_a_validation_split():
    runs = swr_runs()
    runs.loc[0, "val_acc"] = float("nan")
    with pytest.raises(ValueError, match="val_fraction"):
        select_strengths(runs)


def test_each_regularizer_grid_point_is_a_setting_that_keeps_its_base_scale_overrides():
    cfg = load_config(yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text()))
    plan = study_plan(cfg, "quick", "swr_decay")
    assert plan["base_settings"] == ["swr_fashion_mlp_decay", "swr_fashion_cnn_decay"]
    assert plan["settings"][:4] == ["swr_fashion_mlp_decay", "swr_fashion_mlp_decay-l2-0.001",
                                    "swr_fashion_mlp_decay-l2-0.0001", "swr_fashion_mlp_decay-l2_init-0.001"]
    run = resolved_run(cfg, "quick", "swr_fashion_mlp_decay-swr_reinit-0.001-0.01", "dense", 100, 2)
    assert run["regularizer"] == {"kind": "swr_reinit", "strength": 0.001, "head_strength": 0.01,
                                  "scale_inactive": True}
    # the scale's settings_run of the base setting applies to its variants
    assert (run["train_subset"], run["epochs_per_cycle"], run["lr_milestones"]) == (6000, 20, [10, 15])
    assert (run["optimizer"], run["lr"], run["batch_size"], run["val_fraction"]) == ("adam", 0.001, 256, 0.1)
    # vanilla is the base setting itself, so SWR + Grow shares its Grow runs with the ConvNet studies
    grow = {run["setting"] for run in run_grid(cfg, "paper", "swr_grow")}
    assert grow == {"cifar100_iid", "cifar100_iid-swr-0.01-0.01"}
    # The publication's pairs: MNIST MLP, CIFAR-10 CNN, CIFAR-100 CNN and CNN-BN, TinyImageNet VGG-16; vanilla +
    # L2, L2-Init, SWR grids
    single = run_grid(cfg, "paper", "swr_single")
    assert len(single) == 5 * (1 + 5 + 5 + 25) * 5
    assert {(run["dataset"], run["model"]) for run in single} == {
        ("mnist", "mlp"), ("cifar10", "cnn"), ("cifar100", "cnn"), ("cifar100", "cnn_bn"), ("tinyimagenet", "vgg16")}
    assert {run["regularizer"]["strength"] for run in single if run["regularizer"]["kind"] == "l2"} == {
        0.1, 0.01, 0.001, 0.0001, 0.00001}


def test_vgg16_starts_from_torchvision_init_and_head_reset_draws_its_head_the_same_way():
    model = build_model("vgg16", (3, 32, 32), (64, 64), 10)
    for conv in (module for module in model.trunk if isinstance(module, nn.Conv2d)):
        assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / (conv.out_channels * 9)), rel=0.1)
        assert not conv.bias.any()
    first_head = copy.deepcopy(model.head)
    HeadReset().on_task_start(SimpleNamespace(model=model, cfg=SimpleNamespace(seed=0)), 1)
    assert not torch.equal(model.head.weight, first_head.weight)
    for linear in [layer.linear for layer in model.hidden.values()] + [first_head, model.head]:
        assert linear.weight.std().item() == pytest.approx(0.01, rel=0.1) and not linear.bias.any()
    # Every other model keeps PyTorch's default init, a new head included: uniform within 1/sqrt(fan_in).
    head = build_model("mlp", (1, 28, 28), (64, 64), 10).new_head()
    assert head.weight.abs().max().item() <= 1 / math.sqrt(64) and head.bias.any()
    assert head.weight.std().item() == pytest.approx(1 / math.sqrt(3 * 64), rel=0.1)
