"""The GCG study's methods as hooks of the one loop (plasticity.methods.sparse): growth phases and the stopping
rule, IMP, RigL and SET, the fixed PHEW mask, and the training-cost columns."""

import pandas as pd
import pytest
import torch

from plasticity import connections as cx
from plasticity.config import imp_rounds
from plasticity.hooks import build_hooks
from plasticity.methods.sparse import IterativeMagnitudePruning, TrainCost
from plasticity.stopping import decide
from plasticity.train import Tensors, Trainer, init_model, train_run
from runs import make_run

WEIGHTS = 784 * 32 + 32 * 32 + 32 * 10  # the test MLP's sparse layers: fc1, fc2, head


def sparse_run(method: str, c: int, **overrides):
    values = dict(setting="test", method=method, c=c, seed=2, dataset="synthetic", hidden=(32, 32), cycles=1,
                  epochs_per_cycle=2, lr=0.05, epoch_metrics=("train_cost",),
                  sparse={"stage_epochs": [1], "growth_epochs": 30})
    values.update(overrides)
    return make_run(**values)


@pytest.mark.parametrize("method", ["pathgrow", "random_growth", "gradient_growth"])
def test_growth_reaches_the_target_in_rising_stages_then_trains_the_network_it_found(method, synthetic_dataset, tmp_path):
    cfg = sparse_run(method, 40)
    train_run(cfg, synthetic_dataset, tmp_path)
    epochs = pd.read_csv(tmp_path / "epochs.csv")
    growth, final = epochs[epochs.phase == "growth"], epochs[epochs.phase == "cycle"]
    assert len(final) == cfg.total_epochs and final.density.nunique() == 1
    stage_ends = growth[growth.stage_end]
    densities = stage_ends.density.tolist()
    assert densities[0] >= 0.02 and all(b > a for a, b in zip(densities, densities[1:]))
    assert all(b <= a * 1.25 + 2 / WEIGHTS for a, b in zip(densities, densities[1:]))  # x1.25 per stage
    assert growth.stop_reason.fillna("").tolist()[-1] == "target"
    assert len(densities) >= 6 and final.density.iloc[0] == pytest.approx(0.40, abs=1 / WEIGHTS)
    masks = torch.load(tmp_path / "state.pt", weights_only=True)["final_masks"]["connections"]
    assert cx.density(masks) == pytest.approx(0.40, abs=1 / WEIGHTS)


def test_growth_never_removes_a_connection(synthetic_dataset):
    cfg = sparse_run("pathgrow", 50)
    data = Tensors.load(cfg, synthetic_dataset, torch.device("cpu"))
    trainer = Trainer(cfg, data, init_model(cfg, data), build_hooks(cfg, "growth"), phase="growth")
    seen = []

    class Watch(TrainCost):
        def on_epoch_end(self, trainer, row):
            seen.append(cx.current_masks(trainer.model))

    trainer.hooks.append(Watch())
    trainer.run()
    assert len(seen) > 3
    for before, after in zip(seen, seen[1:]):
        assert all(torch.all(after[name] >= before[name]) for name in before)


def test_growth_at_c100_stops_by_the_rule_and_needs_validation_data(synthetic_dataset, tmp_path):
    # Three epochs per stage at lr 0.2: validation accuracy levels off near 0.73 by density 0.23 (measured).
    cfg = sparse_run("pathgrow", 100, val_fraction=0.2, lr=0.2, sparse={"stage_epochs": [3], "growth_epochs": 60})
    train_run(cfg, synthetic_dataset, tmp_path)
    growth = pd.read_csv(tmp_path / "epochs.csv").query("phase == 'growth'")
    stages = growth[growth.stage_end]
    assert stages.stop_reason.fillna("").tolist()[-1] == "fit" and stages.density.max() < 0.5
    decision = decide(stages.density.tolist(), stages.val_acc.tolist(), 0.005, 4, 0.001, 2)
    assert decision.stop and len(stages) >= 4  # the rule, refitted from the rows, agrees
    assert not decide(stages.density.tolist()[:-1], stages.val_acc.tolist()[:-1], 0.005, 4, 0.001, 2).stop
    with pytest.raises(ValueError, match="val_fraction"):
        train_run(sparse_run("pathgrow", 100), synthetic_dataset, tmp_path / "no-val")


def test_imp_prunes_the_smallest_weights_each_round_and_rewinds_the_rest(synthetic_dataset):
    cfg = sparse_run("imp", 50, cycles=imp_rounds(50, 0.2) + 1, epochs_per_cycle=2,
                     sparse={"imp_fraction": 0.2, "imp_rewind_epoch": 1})
    assert cfg.cycles == 5  # 0.8^3 = 0.51 > 0.5: four rounds, the last one prunes to 50% exactly
    data = Tensors.load(cfg, synthetic_dataset, torch.device("cpu"))
    trainer = Trainer(cfg, data, init_model(cfg, data), build_hooks(cfg, "cycle"), phase="cycle")
    imp = next(hook for hook in trainer.hooks if isinstance(hook, IterativeMagnitudePruning))
    checks = []

    class Check(TrainCost):
        def on_task_start(self, trainer, task):  # runs after IMP's own on_task_start: the round has just begun
            if task == 0:
                return
            layers = cx.sparse_layers(trainer.model)
            masks = cx.current_masks(trainer.model)
            for name, module in layers.items():
                key = f"{cx.prefix_of(trainer.model, name)}weight"
                assert torch.equal(module.weight.detach(), imp.rewind_state[key] * masks[name])  # rewound
            checks.append(cx.density(masks))

        def on_task_end(self, trainer, task):
            trainer.before_prune = {name: m.weight.detach().abs().clone() for name, m in cx.sparse_layers(trainer.model).items()}

    trainer.hooks.append(Check())
    before = {}
    original = imp.on_task_start

    def recording(trainer, task):
        before.update(masks=cx.current_masks(trainer.model))
        original(trainer, task)
        after = cx.current_masks(trainer.model)
        if task > 0:  # every pruned weight was no larger than every kept one (global magnitude)
            removed = torch.cat([trainer.before_prune[n][(before["masks"][n] > 0) & (after[n] == 0)] for n in after])
            kept = torch.cat([trainer.before_prune[n][after[n] > 0] for n in after])
            assert removed.max() <= kept.min()

    imp.on_task_start = recording
    trainer.run()
    assert checks == pytest.approx([0.8, 0.64, 0.512, 0.5], abs=1 / WEIGHTS)


@pytest.mark.parametrize("method", ["rigl", "set"])
def test_rigl_and_set_keep_the_density_of_every_layer(method, synthetic_dataset):
    cfg = sparse_run(method, 20, epochs_per_cycle=3, sparse={"rigl_interval": 5})
    data = Tensors.load(cfg, synthetic_dataset, torch.device("cpu"))
    trainer = Trainer(cfg, data, init_model(cfg, data), build_hooks(cfg, "cycle"), phase="cycle")
    counts, masks = [], []

    class Watch(TrainCost):
        def after_step(self, trainer):
            counts.append(cx.present_counts(trainer.model))
            if trainer.step % 5 == 1:
                masks.append(cx.current_masks(trainer.model))

    trainer.hooks.append(Watch())
    trainer.run()
    assert all(count == counts[0] for count in counts)
    assert sum(counts[0].values()) == pytest.approx(0.2 * WEIGHTS, abs=len(counts[0]))
    assert any(not torch.equal(a["fc1"], b["fc1"]) for a, b in zip(masks, masks[1:]))  # the masks did move


def test_training_cost_matches_a_hand_count(synthetic_dataset, tmp_path):
    cfg = sparse_run("phew", 20, epochs_per_cycle=2)
    train_run(cfg, synthetic_dataset, tmp_path / "phew")
    epochs = pd.read_csv(tmp_path / "phew" / "epochs.csv")
    masks = torch.load(tmp_path / "phew" / "state.pt", weights_only=True)["final_masks"]["connections"]
    present = sum(int(m.sum()) for m in masks.values())
    examples = 1000  # the synthetic training set, every example once per epoch
    assert epochs.train_flops.tolist() == [6.0 * present * examples * e for e in (1, 2)]
    assert (epochs.dense_step_flops == 6.0 * WEIGHTS).all()
    assert epochs.density.iloc[-1] == pytest.approx(present / WEIGHTS)
    dense = sparse_run("dense", 100, epochs_per_cycle=1)
    train_run(dense, synthetic_dataset, tmp_path / "dense")
    assert pd.read_csv(tmp_path / "dense" / "epochs.csv").train_flops.tolist() == [6.0 * WEIGHTS * examples]
