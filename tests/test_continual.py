"""The continual benchmarks ([SP] Section 6): class_tasks streams, edits at the first task boundaries, online
accuracy per task, the LR grid and variants as settings, and the metrics and selection of Table 14."""

import copy
import math

import pandas as pd
import pytest
import torch
import yaml

from plasticity.config import ConfigError, load_config, run_config as resolved_run, run_grid, study_plan
from plasticity.continual import activation_deltas, lr_selection, selected_runs, steps_per_task, task_metrics
from plasticity.hooks import build_hooks
from plasticity.metrics_hooks import TASK_COLUMNS
from plasticity.run import RunConfig
from plasticity.streams import Stream
from plasticity.train import CHECKPOINT, Tensors, Trainer, init_model, train_run
from runs import ROOT, run_config, trainer_for
from test_resume import assert_same_outputs, killed_child

RAW = yaml.safe_load((ROOT / "config.yaml").read_text())


def class_tasks(**overrides) -> RunConfig:
    values = dict(stream="class_tasks", task_classes=[2], task_labels="local", cycles=7, epochs_per_cycle=1,
                  batch_size=20, optimizer="adam", lr=0.001, lr_schedule="constant", online={"enabled": True})
    return run_config(**{**values, **overrides})


def test_class_tasks_take_new_classes_until_every_class_was_used(synthetic_dataset):
    cfg = class_tasks()
    data = Tensors.load(cfg, synthetic_dataset, torch.device("cpu"))
    tasks = Stream(cfg, data.train_y, data.classes).tasks
    assert all(len(task) == 2 for task in tasks)
    first_pass = [c for task in tasks[:5] for c in task]
    assert sorted(first_pass) == list(range(10))  # the 10 classes, none twice, before any repeats
    assert tasks == Stream(class_tasks(method="prune"), data.train_y, data.classes).tasks  # every method alike
    assert tasks != Stream(class_tasks(seed=2), data.train_y, data.classes).tasks


def test_five_plus_one_alternates_task_sizes_in_the_datasets_labels(synthetic_dataset):
    cfg = class_tasks(task_classes=[5, 1], task_labels="global", cycles=4, images_per_class=20, steps_per_epoch=7)
    data = Tensors.load(cfg, synthetic_dataset, torch.device("cpu"))
    stream = Stream(cfg, data.train_y, data.classes)
    assert [len(task) for task in stream.tasks] == [5, 1, 5, 1]
    assert len({c for task in stream.tasks[:2] for c in task}) == 6
    for task in range(4):
        indices = stream.task_indices(task)
        assert len(indices) == 20 * len(stream.tasks[task])  # images_per_class of each of its classes
        assert set(data.train_y[indices].tolist()) == set(stream.tasks[task])
        batches = stream.epoch_batches(task)  # steps_per_epoch full batches, whatever the task's size
        assert len(batches) == 7 and all(len(b) == cfg.batch_size for b in batches)
        x, y = stream.transform(task, data.train_x[indices], data.train_y[indices], indices)
        assert torch.equal(y, data.train_y[indices])  # global labels: unchanged
    assert init_model(cfg, data).head.out_features == 10


def test_class_pairs_label_each_task_zero_and_one_and_test_on_its_own_classes(synthetic_dataset):
    cfg = class_tasks(images_per_class=30)
    trainer = trainer_for(cfg, synthetic_dataset, [])
    stream = trainer.stream
    assert trainer.model.head.out_features == 2
    indices = stream.task_indices(3)
    _, labels = stream.transform(3, trainer.data.train_x[indices], trainer.data.train_y[indices], indices)
    first, second = stream.tasks[3]
    assert torch.equal(labels, (trainer.data.train_y[indices] == second).long())
    assert stream.eval_classes(3) == [first, second]
    # the same fixed images of a class in every task that trains it, for every method
    again = Stream(class_tasks(images_per_class=30, method="grow"), trainer.data.train_y, trainer.data.classes)
    assert torch.equal(again.task_indices(3), indices)
    test = torch.isin(trainer.data.test_y, torch.tensor([first, second]))
    with torch.no_grad():
        trainer.model.eval()
        logits = trainer.model(trainer.data.test_x[test])
        expected = (logits.argmax(1) == (trainer.data.test_y[test] == second).long()).float().mean().item()
    assert trainer.test_accuracy(3) == pytest.approx(expected)


def test_edits_fire_at_the_first_boundaries_only_and_reach_the_target(synthetic_dataset, tmp_path):
    for method in ("grow", "prune"):
        cfg = class_tasks(method=method, c=30, cycles=8, edit_events=3)
        train_run(cfg, synthetic_dataset, tmp_path / method)
        events = pd.read_csv(tmp_path / method / "events.csv")
        edits = events[events["kind"] == method]
        assert sorted(edits["event"].unique()) == [1, 2, 3]  # before tasks 2, 3 and 4 (1-based), none later
        final = edits[edits["event"] == 3]
        assert (final["active_after"] == final["target"]).all()
    cfg = class_tasks(cycles=9, edit_every_tasks=2)
    assert [t for t in range(9) if cfg.edit_index(t) is not None] == [2, 4, 6, 8] and cfg.edit_event_count == 4


def test_task_rows_hold_the_online_accuracy_before_each_update(synthetic_dataset, tmp_path):
    cfg = class_tasks(lr=1e-12, cycles=3, epochs_per_cycle=2, images_per_class=40, evaluate="task_ends")
    train_run(cfg, synthetic_dataset, tmp_path)
    tasks = pd.read_csv(tmp_path / "tasks.csv")
    assert list(tasks.columns) == TASK_COLUMNS and tasks["task"].tolist() == [1, 2, 3]
    trainer = trainer_for(cfg, synthetic_dataset, [])  # the same initial model: the updates change nothing
    with torch.no_grad():
        trainer.model.eval()
        for row in tasks.itertuples():
            indices = trainer.stream.task_indices(row.task - 1)
            x, y = trainer.stream.transform(row.task - 1, trainer.data.train_x[indices], trainer.data.train_y[indices],
                                            indices)
            correct = int((trainer.model(x).argmax(1) == y).sum())
            assert row.samples == 2 * len(indices) and row.correct == 2 * correct  # two epochs of the task
            assert row.steps == 8 and row.early_steps == math.ceil(0.1 * 8)
            assert row.early_samples == 20
    epochs = pd.read_csv(tmp_path / "epochs.csv")
    assert epochs["test_acc"].isna().tolist() == [True, False] * 3  # measured at task ends only
    assert (tasks["test_acc"].to_numpy() == epochs["test_acc"].dropna().to_numpy()).all()


def test_a_killed_continual_run_resumes_to_the_uninterrupted_result(synthetic_dataset, tmp_path):
    cfg = class_tasks(method="grow", c=50, cycles=6, epochs_per_cycle=2, images_per_class=30, edit_events=2,
                      grow={"transplant": True})
    train_run(cfg, synthetic_dataset, tmp_path / "whole")
    killed_child(cfg, 5, "after-save", "train", synthetic_dataset, tmp_path / "killed")  # mid-task 3
    train_run(cfg, synthetic_dataset, tmp_path / "killed")
    assert_same_outputs(tmp_path / "whole", tmp_path / "killed", ["epochs.csv", "events.csv", "tasks.csv"])


def test_checkpoint_seconds_saves_only_when_due_and_after_the_last_epoch(synthetic_dataset, tmp_path, monkeypatch):
    cfg = class_tasks(cycles=3)
    saves = []
    monkeypatch.setattr(Trainer, "save_checkpoint", lambda self, path: saves.append(self.epoch))
    trainer_for(cfg, synthetic_dataset, build_hooks(cfg, "cycle")).run(tmp_path / CHECKPOINT, checkpoint_seconds=3600)
    assert saves == [3]
    saves.clear()
    trainer_for(cfg, synthetic_dataset, build_hooks(cfg, "cycle")).run(tmp_path / "other.pt", checkpoint_seconds=0)
    assert saves == [1, 2, 3]


def test_lrs_and_variants_are_settings_named_after_their_base():
    cfg = load_config(RAW)
    plan = study_plan(cfg, "paper", "continual")
    assert "cl_permuted_mnist-rsl-lr0.0001" in plan["settings"] and len(plan["settings"]) == 6 * 6 * 3
    methods = {(run["setting"].split("-")[1], run["method"]) for run in run_grid(cfg, "paper", "continual")
               if run["setting"].count("-") == 2}
    assert methods == {(v, m) for v in ("rsl",) for m in ("dense", "prune", "grow")} | \
        {(v, "grow") for v in ("two_speed", "transplant", "gradmax", "net2wider")}  # interventions on Grow only
    run = resolved_run(cfg, "quick", "cl_permuted_fashion-rsl-lr0.01", "grow", 20, 1)
    assert run["lr"] == 0.01 and run["activation"] == "rsl" and run["rsl"]["c"] == 0.8
    assert run["cycles"] == RAW["scales"]["quick"]["settings_run"]["cl_permuted_fashion"]["cycles"]  # base's override


def test_a_scale_override_that_replaces_what_a_variant_sets_is_an_error():
    raw = copy.deepcopy(RAW)
    raw["scales"]["quick"]["settings_run"]["cl_permuted_fashion"]["lr"] = 0.5
    with pytest.raises(ConfigError, match=r"settings_run.cl_permuted_fashion overrides what the variant sets \(lr\)"):
        load_config(raw)


def test_two_studies_defining_one_variant_differently_is_an_error():
    raw = copy.deepcopy(RAW)
    raw["studies"]["other"] = {**raw["studies"]["continual"], "outputs": [],
                               "variants": {"rsl": {"activation": "rsl", "rsl": {"c": 1.0}}}, "variant_methods": {}}
    with pytest.raises(ConfigError, match="studies define it differently"):
        load_config(raw)


def test_more_edit_events_than_boundaries_is_an_error():
    raw = copy.deepcopy(RAW)
    raw["scales"]["quick"]["settings_run"]["cl_permuted_fashion"]["cycles"] = 4
    with pytest.raises(ConfigError, match="edit_events 4 do not fit in 4 tasks"):
        load_config(raw)


def runs_row(setting, method, c, seed, lr, average="online", largest=False, **metrics):
    base = setting.split("-")[0]
    return {"setting": setting, "method": method, "c": c, "seed": seed, "lr": lr, "base_setting": base,
            "online.average": average, "online.largest_tasks_only": largest, **metrics}


def task_row(setting, method, c, seed, task, classes, correct, samples, early_correct, early_samples, test_acc):
    return {"setting": setting, "method": method, "c": c, "seed": seed, "task": task, "task_classes": classes,
            "correct": correct, "samples": samples, "early_correct": early_correct, "early_samples": early_samples,
            "test_acc": test_acc}


def test_average_accuracy_pools_batches_or_reads_task_ends_and_can_keep_the_hard_tasks_only():
    tasks = pd.DataFrame([
        task_row("a-lr0.1", "grow", 20, 1, 1, 5, 30, 100, 1, 10, 0.9),
        task_row("a-lr0.1", "grow", 20, 1, 2, 1, 50, 50, 5, 5, 0.5),
        task_row("b-lr0.1", "grow", 20, 1, 1, 2, 10, 20, 1, 2, 0.6),
        task_row("b-lr0.1", "grow", 20, 1, 2, 2, 20, 20, 2, 2, 0.8),
        task_row("h-lr0.1", "grow", 20, 1, 1, 5, 30, 100, 1, 10, 0.9),
        task_row("h-lr0.1", "grow", 20, 1, 2, 1, 50, 50, 5, 5, 0.5),
    ])
    runs = pd.DataFrame([runs_row("a-lr0.1", "grow", 20, 1, 0.1), runs_row("b-lr0.1", "grow", 20, 1, 0.1, "task_test"),
                         runs_row("h-lr0.1", "grow", 20, 1, 0.1, largest=True)])
    metrics = task_metrics(tasks, runs).set_index("setting")
    assert metrics.loc["a-lr0.1", "avg_acc"] == pytest.approx(80 / 150)  # pooled over samples, not task means
    assert metrics.loc["a-lr0.1", "early_taa"] == pytest.approx(6 / 15)
    assert metrics.loc["b-lr0.1", "avg_acc"] == pytest.approx(0.7)
    assert metrics.loc["h-lr0.1", "avg_acc"] == pytest.approx(0.3) and metrics.loc["h-lr0.1", "early_taa"] == 0.1


def test_each_method_takes_the_lr_with_the_best_mean_average_accuracy():
    runs = pd.DataFrame([runs_row(f"p-lr{lr:g}", "grow", 20, seed, lr, avg_acc=value, early_taa=0.0)
                         for lr, values in ((0.01, [0.5, 0.9]), (0.001, [0.7, 0.71])) for seed, value in zip((1, 2), values)]
                        + [runs_row(f"p-rsl-lr{lr:g}", "grow", 20, 1, lr, avg_acc=value, early_taa=0.0)
                           for lr, value in ((0.01, 0.2), (0.001, 0.3))])
    selection = lr_selection(runs)
    chosen = selection[selection["selected"]].set_index("variant")["lr"]
    assert chosen.to_dict() == {"none": 0.001, "rsl": 0.001}  # means 0.705 vs 0.70: the best mean, not the best seed
    assert sorted(selected_runs(runs)["setting"]) == ["p-lr0.001", "p-lr0.001", "p-rsl-lr0.001"]
    deltas = activation_deltas(runs, {"p": "avg_acc"})
    assert deltas["delta"].tolist() == pytest.approx([0.3 - 0.705])


def test_table_2_steps_are_the_steps_a_run_takes(synthetic_dataset, tmp_path):
    cfg = class_tasks(images_per_class=25, epochs_per_cycle=3, cycles=2)
    train_run(cfg, synthetic_dataset, tmp_path)
    steps = pd.read_csv(tmp_path / "tasks.csv")["steps"].unique().tolist()
    assert steps_per_task(cfg.to_dict()) == f"{steps[0]:,}" and steps == [math.ceil(50 / 20) * 3]
