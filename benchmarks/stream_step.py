"""Step time of the continual streams on this machine, one thread as Snakemake runs each job, and what the
`continual` study costs at paper scale:

(1) an epoch of our Trainer (run_epoch without the task-end evaluation, hooks and online accuracy included)
    against a minimal hand-written loop on the same model, optimizer settings and batch size: the MLP on a
    permuted and a random-label stream at batch 16, the ConvNet on a random-label stream at batch 16, 32 (5+1,
    Split-CIFAR100) and 100 (Continual ImageNet), each under ReLU and under the setting's RSL;
(2) where our step's time goes, part by part of Trainer.train_epoch (and of the minimal loop);
(3) the fixed cost of a task end: the test pass (10,000 images) and a checkpoint save;
(4) from these, the CPU-hours and jobs of the two studies' paper-scale runs (steps and test images per run
    counted by each run's own Stream from its resolved config).

    .venv/bin/python benchmarks/stream_step.py [--repeats 3] [--out benchmarks/results/stream_step.csv]
                                               [--projection benchmarks/results/stream_step_projection.csv]

Each case is the resolved paper run (dense, c = 100, seed 1, LR 1e-3: a step costs the same at every LR) of its
setting, on synthetic data in the shape of the real dataset (the cost of a step does not depend on pixel values),
with the real training-set size where the stream has one. The minimal loop is benchmarks/core_speed.py's: the task's
data presented once (the permutation applied, the random labels drawn) and then only sliced, torch.optim.Adam,
forward/backward/step. Ours and minimal alternate, so slow drifts of the machine hit both alike; medians are
reported. The part-by-part breakdown is one more round of each, timed with perf_counter between parts (one CPU
thread runs every op synchronously, so the clock sees each part's whole cost).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import math
import platform
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

from core_speed import CONFIG, REPO, minimal_epoch, seconds  # benchmarks/ is on sys.path when run as a script
from plasticity.config import base_setting, run_config, run_dir, run_grid
from plasticity.data import prepare_dataset
from plasticity.hooks import build_hooks
from plasticity.io import atomic_write_csv
from plasticity.run import RunConfig
from plasticity.streams import Stream, stratified_subset, validation_split
from plasticity.train import Tensors, Trainer, init_model

STUDY = "continual"  # the continual streams, the Grow interventions among its variants
LR = 0.001  # the middle of the continual LR grid

# setting -> (the stream it is timed on, training images, epochs per timed round, test images of the test pass).
# The random-label streams train on their 1,200 images and Permuted MNIST on its 10,000; the 5+1 and Continual
# ImageNet batches are timed on a random-label stream of the ConvNet (the brief's case; their own streams only
# relabel), on sets that their batches divide. A test pass is timed once per model, on the batch-16 cases.
CASES = {
    "cl_permuted_mnist": ("permuted", 10000, 1, 10000),
    "cl_random_label_mnist": ("random_label", 1200, 8, 0),
    "cl_random_label_cifar": ("random_label", 1200, 2, 10000),
    "cl_five_plus_one_cifar": ("random_label", 1280, 2, 0),
    "cl_continual_imagenet": ("random_label", 1200, 3, 0),
}
TIMED_AS = {"cl_split_cifar100": "cl_five_plus_one_cifar"}  # the same ConvNet, batch 32 and RSL parameters
SHAPES = {"mnist": [1, 28, 28], "cifar10": [3, 32, 32], "cifar100": [3, 32, 32], "imagenet32": [3, 32, 32]}
# (training images, test images, classes) of the real datasets, for counting a run's steps and test images.
# MNIST's and ImageNet 32x32's classes are not exactly balanced; the subsets the continual streams draw are.
DATASET_SIZES = {"mnist": (60000, 10000, 10), "cifar10": (50000, 10000, 10), "cifar100": (50000, 10000, 100),
                 "imagenet32": (1281167, 50000, 1000)}
# Optimizer steps per run as the protocol states them, where they can differ from what the resolved config makes
# (Split-CIFAR100 has no such number: its replay batches are counted from its config alone).
PROTOCOL_STEPS = {"cl_permuted_mnist": 500 * 625, "cl_random_label_mnist": 50 * 30000,
                  "cl_random_label_cifar": 50 * 30000, "cl_five_plus_one_cifar": 30 * 780,
                  "cl_continual_imagenet": 500 * 120}


def setting_run(setting: str, activation: str) -> dict:
    """The resolved paper-scale run of `setting` under `activation` (its variant of the continual study)."""
    variant = f"{setting}-rsl-lr{LR:g}" if activation == "rsl" else f"{setting}-lr{LR:g}"
    return run_config(CONFIG, "paper", variant, "dense", 100, 1)


def case_config(setting: str, activation: str) -> RunConfig:
    stream = CASES[setting][0]
    return RunConfig.from_dict({**setting_run(setting, activation), "dataset": "bench", "stream": stream,
                                "train_subset": 0, "test_subset": 0, "images_per_class": 0, "steps_per_epoch": 0,
                                "device": "cpu"})


class Laps:
    """Seconds per named part, summed: each call charges the time since the previous call to `part`."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.last = time.perf_counter()

    def __call__(self, part: str) -> None:
        now = time.perf_counter()
        self.seconds[part] += now - self.last
        self.last = now


def timed_train_epoch(trainer: Trainer, cycle: int, laps: Laps) -> int:
    """Trainer.train_epoch's loop, part by part (it must follow that loop; the continual settings train
    without augmentation). Returns the steps."""
    device = trainer.data.train_x.device
    total_loss = torch.zeros((), device=device)
    batches = trainer.stream.epoch_batches(cycle)
    laps("epoch batches")
    for batch in batches:
        batch = batch.to(device)
        x, y = trainer.data.train_x[batch], trainer.data.train_y[batch]
        laps("slice batch")
        x, y = trainer.stream.transform(cycle, x, y, batch)
        laps("stream.transform")
        logits = trainer.model(x)
        laps("forward")
        loss = F.cross_entropy(logits, y)
        laps("loss")
        trainer.optimizer.zero_grad()
        laps("zero_grad")
        (loss + sum(hook.penalty(trainer) for hook in trainer.hooks)).backward()
        laps("penalties + backward")
        trainer.step_output = (logits, y)
        trainer.call("before_step")
        laps("before_step hooks (online argmax)")
        trainer.optimizer.step()
        laps("optimizer.step")
        trainer.model.enforce_connection_masks()
        laps("enforce_connection_masks")
        trainer.step += 1
        trainer.call("after_step")
        laps("after_step hooks")
        total_loss += loss.detach()
        laps("loss sum")
    trainer.step_output = None
    total_loss.item()
    return len(batches)


def timed_minimal_epoch(model, optimizer, x, y, batch_size: int, generator: torch.Generator, laps: Laps) -> int:
    """core_speed.minimal_epoch, part by part (no connection masks). Returns the steps."""
    order = torch.randperm(len(y), generator=generator)
    laps("epoch batches")
    for start in range(0, len(y), batch_size):
        picks = order[start:start + batch_size]
        inputs, labels = x[picks], y[picks]
        laps("slice batch")
        logits = model(inputs)
        laps("forward")
        loss = F.cross_entropy(logits, labels)
        laps("loss")
        optimizer.zero_grad(set_to_none=True)
        laps("zero_grad")
        loss.backward()
        laps("penalties + backward")
        optimizer.step()
        laps("optimizer.step")
    return math.ceil(len(y) / batch_size)


def measure_case(setting: str, activation: str, repeats: int, folder: Path) -> list[dict]:
    stream, images, epochs, test_images = CASES[setting]
    cfg = case_config(setting, activation)
    dataset = setting_run(setting, activation)["dataset"]
    spec = {"source": "synthetic", "train_size": images, "test_size": test_images or 256, "seed": 0,
            "shape": SHAPES[dataset], "classes": 10}
    path = folder / f"{setting}.pt"
    prepare_dataset(setting, spec, folder / "raw", path)
    data = Tensors.load(cfg, path, torch.device("cpu"))

    ours = Trainer(cfg, data, init_model(cfg, data), build_hooks(cfg, "cycle"), phase="cycle")
    ours.call("setup")
    ours.call("on_task_start", 0)
    model = init_model(cfg, data)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    generator = torch.Generator().manual_seed(0)
    # The task's data as its stream presents it (pixels permuted, labels drawn), once: the minimal loop only slices.
    task_x, task_y = ours.stream.transform(0, data.train_x, data.train_y, torch.arange(len(data.train_y)))
    steps = epochs * len(ours.stream.epoch_batches(0))

    def our_round() -> None:
        with contextlib.redirect_stderr(io.StringIO()):  # run_epoch prints a progress line per epoch
            for _ in range(epochs):
                ours.run_epoch(0, cycle_end=False)

    def minimal_round() -> None:
        for _ in range(epochs):
            minimal_epoch(model, optimizer, task_x, task_y, cfg.batch_size, generator)

    our_times, minimal_times = [], []
    for _ in range(repeats + 1):  # the first round warms up both (and imports torch.optim's dynamo)
        our_times.append(seconds(our_round))
        minimal_times.append(seconds(minimal_round))
    our_step = statistics.median(our_times[1:]) / steps
    minimal_step = statistics.median(minimal_times[1:]) / steps

    our_laps = Laps()
    our_steps = sum(timed_train_epoch(ours, 0, our_laps) for _ in range(epochs))
    minimal_laps = Laps()  # started here, so that it is charged nothing of our round
    minimal_steps = sum(timed_minimal_epoch(model, optimizer, task_x, task_y, cfg.batch_size, generator,
                                            minimal_laps) for _ in range(epochs))

    row = {"setting": setting, "activation": activation, "model": cfg.model, "stream": stream,
           "batch": cfg.batch_size, "steps_timed": steps}
    rows = [
        {**row, "loop": "ours", "quantity": "step", "value": 1e3 * our_step, "unit": "ms"},
        {**row, "loop": "minimal", "quantity": "step", "value": 1e3 * minimal_step, "unit": "ms"},
        {**row, "loop": "ours / minimal", "quantity": "step", "value": our_step / minimal_step, "unit": "x"},
    ]
    for loop, laps, count in (("ours", our_laps, our_steps), ("minimal", minimal_laps, minimal_steps)):
        rows += [{**row, "loop": loop, "quantity": f"part: {part}", "value": 1e3 * total / count, "unit": "ms"}
                 for part, total in laps.seconds.items()]
    if test_images:
        test_pass = statistics.median(seconds(lambda: ours.test_accuracy(0)) for _ in range(repeats))
        rows.append({**row, "loop": "ours", "quantity": "test pass", "value": 1e3 * test_pass,
                     "unit": f"ms / {len(data.test_y)} images"})
    checkpoint = statistics.median(seconds(lambda: ours.save_checkpoint(folder / "checkpoint.pt"))
                                   for _ in range(repeats))
    rows.append({**row, "loop": "ours", "quantity": "checkpoint save", "value": 1e3 * checkpoint, "unit": "ms"})
    print(f"{setting} {activation} batch {cfg.batch_size}: ours {1e3 * our_step:.3f} ms, minimal "
          f"{1e3 * minimal_step:.3f} ms, {our_step / minimal_step:.3f}x", flush=True)
    return rows


def balanced_labels(count: int, classes: int) -> torch.Tensor:
    return torch.arange(count) % classes


def run_workload(run: dict) -> tuple[int, int]:
    """(optimizer steps, evaluated images) of one run as its resolved config makes them: its own Stream, over
    labels the size of the real dataset, after the same train/test subsets and validation split as Tensors.load."""
    cfg = RunConfig.from_dict(run)
    train_count, test_count, classes = DATASET_SIZES[cfg.dataset]
    train_y = balanced_labels(train_count, classes)
    train_y = train_y[stratified_subset(train_y, cfg.train_subset, "train-subset")]
    train, val = validation_split(train_y, cfg.val_fraction)
    test_y = balanced_labels(test_count, classes)
    test_y = test_y[stratified_subset(test_y, cfg.test_subset, "test-subset")]
    stream = Stream(cfg, train_y[train], classes)
    steps = evaluated = 0
    for epoch in range(cfg.total_epochs):
        task, epoch_in_task = divmod(epoch, cfg.epochs_per_cycle)
        steps += len(stream.epoch_batches(task))
        task_end = epoch_in_task == cfg.epochs_per_cycle - 1
        if cfg.evaluate == "epochs" or task_end:
            seen = torch.tensor(stream.eval_classes(task))
            evaluated += int(torch.isin(test_y, seen).sum() + torch.isin(train_y[val], seen).sum())
        if task_end:
            stream.end_task(task)
    return steps, evaluated


def projection(timings: pd.DataFrame) -> pd.DataFrame:
    """CPU-hours of the studies' paper runs: steps x our step time + evaluated images x the test pass's time per
    image, plus the time-throttled checkpoints (one per checkpoints.every_seconds of training)."""
    def timing(setting: str, activation: str, quantity: str, loop: str = "ours") -> float:
        match = timings[(timings.setting == setting) & (timings.activation == activation) &
                        (timings.quantity == quantity) & (timings.loop == loop)]
        return float(match.value.iloc[0]) / 1e3

    eval_per_image = {(case.model, case.activation): case.value / 1e3 / CASES[case.setting][3]
                      for case in timings[timings.quantity == "test pass"].itertuples()}
    per_job = CONFIG["scales"]["paper"]["seeds_per_job"]
    limit_hours = CONFIG["scales"]["paper"]["job_runtime_min"] / 60
    studies = [STUDY]
    runs = {run_dir(run): run for study in studies for run in run_grid(CONFIG, "paper", study)}  # shared runs once
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for run in runs.values():
        groups[base_setting(run["setting"]), run["activation"]].append(run)
    rows = []
    for (setting, activation), members in groups.items():
        first = members[0]
        steps, evaluated = run_workload(first)
        timed = TIMED_AS.get(setting, setting)
        step = timing(timed, activation, "step")
        checkpoint = timing(timed, activation, "checkpoint save")
        evaluation = evaluated * eval_per_image[first["model"], activation]

        def run_hours(steps: int) -> float:
            return (steps * step + evaluation) * (1 + checkpoint / CONFIG["checkpoints"]["every_seconds"]) / 3600

        protocol_steps = PROTOCOL_STEPS.get(setting, steps)
        jobs = len({(run["setting"], run["method"], run["c"], (run["seed"] - 1) // per_job) for run in members})
        rows.append({"studies": "+".join(studies), "setting": setting, "activation": activation,
                     "model": first["model"], "batch": first["batch_size"], "tasks": first["cycles"],
                     "runs": len(members), "jobs": jobs, "steps_per_run": steps, "protocol_steps_per_run": protocol_steps,
                     "eval_images_per_run": evaluated, "step_ms": 1e3 * step, "hours_per_run": run_hours(steps),
                     "over_job_limit": run_hours(steps) > limit_hours,
                     "cpu_hours": len(members) * run_hours(steps),
                     "cpu_hours_at_protocol_steps": len(members) * run_hours(protocol_steps)})
    table = pd.DataFrame(rows).sort_values(["setting", "activation"])
    total = {"studies": "+".join(studies), "setting": "total",
             **{column: table[column].sum() for column in ["runs", "jobs", "cpu_hours", "cpu_hours_at_protocol_steps"]}}
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"torch": torch.__version__, "cpu": cpu, "threads": torch.get_num_threads(),
            "date": datetime.datetime.now().isoformat(timespec="seconds")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/stream_step.csv"))
    parser.add_argument("--projection", default=str(REPO / "benchmarks/results/stream_step_projection.csv"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        rows = [row for setting in CASES for activation in ("relu", "rsl")
                for row in measure_case(setting, activation, args.repeats, Path(folder))]
    timings = pd.DataFrame(rows).assign(**machine())
    atomic_write_csv(timings, args.out)
    projected = projection(timings)
    atomic_write_csv(projected, args.projection)
    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.max_rows", 500):
        print(timings.drop(columns=["torch", "cpu", "threads", "date"]).to_string(
            index=False, float_format=lambda v: f"{v:.4g}"))
        print(projected.to_string(index=False, float_format=lambda v: f"{v:.4g}"))


if __name__ == "__main__":
    main()
