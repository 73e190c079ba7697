"""Speed of the training core on this machine, one thread as Snakemake runs each job:

(a) a training epoch of our Trainer against a minimal hand-written PyTorch loop on the same model, data
    and batch size (MLP and ConvNet), and
(b) the cost of a Grow edit, a Prune edit (with its rewind and optimizer reset) and a per-epoch
    checkpoint, each as a share of a paper-scale run.

    .venv/bin/python benchmarks/core_speed.py [--repeats 7] [--out benchmarks/results/core_speed.csv]

Synthetic data in the shapes of the real benchmarks: the cost of a step does not depend on pixel values.
Core and minimal epochs alternate, so slow drifts of the machine hit both alike; medians are reported.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

import yaml

from plasticity.config import default_run, load_config
from plasticity.data import prepare_dataset
from plasticity.hooks import build_hooks
from plasticity.io import atomic_write_csv
from plasticity.run import RunConfig
from plasticity.train import Tensors, Trainer, init_model

REPO = Path(__file__).resolve().parents[1]
CONFIG = load_config(yaml.safe_load((REPO / "config.yaml").read_text()))
BENCH = dict(setting="bench", method="dense", c=100, seed=1, dataset="bench", device="cpu")

# model -> (its paper run config, the dataset shape it runs on, training images per timed epoch,
#           SGD steps of one paper-scale epoch)
CASES = {
    "mlp": (default_run(CONFIG, **BENCH, model="mlp", hidden=[256, 256], lr=0.01),
            {"shape": [1, 28, 28], "classes": 10}, 6400, 938),
    "convnet": (default_run(CONFIG, **BENCH, model="convnet", hidden=[512, 512, 256], epochs_per_cycle=40, lr=0.1),
                {"shape": [3, 32, 32], "classes": 100}, 1280, 782),
}


def minimal_epoch(model: torch.nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
                  batch_size: int, generator: torch.Generator, masked: list = ()) -> None:
    """The textbook loop: shuffle, slice, forward, backward, step (and keep masked weights at zero)."""
    order = torch.randperm(len(y), generator=generator)
    for start in range(0, len(y), batch_size):
        picks = order[start:start + batch_size]
        loss = F.cross_entropy(model(x[picks]), y[picks])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            for layer in masked:
                layer.weight.mul_(layer.weight_mask)


def mask_connections(model) -> list:
    """Half of every hidden layer's and the head's weights masked off, at random (a connection-sparse network)."""
    generator = torch.Generator().manual_seed(0)
    for name in [*model.hidden, "head"]:
        weight = model.connection_layers()[name].weight
        model.set_connection_mask(name, (torch.rand(weight.shape, generator=generator) < 0.5).float())
    return [layer for layer in model.connection_layers().values() if layer.weight_mask is not None]


def seconds(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median_seconds(action, repeats: int) -> float:
    return statistics.median(seconds(action) for _ in range(repeats))


def edit_seconds(cfg: RunConfig, data: Tensors, method: str, repeats: int) -> float:
    """Median time of one boundary edit of `method` (the first one of a run, on fresh trainers)."""
    times = []
    for _ in range(repeats):
        run = replace(cfg, method=method, c=30)
        trainer = Trainer(run, data, init_model(run, data), build_hooks(run, "cycle"), phase="cycle")
        trainer.call("setup")
        trainer.task = 1
        times.append(seconds(lambda: trainer.call("on_task_start", 1)))
    return statistics.median(times)


def step_seconds(cfg: RunConfig, data: Tensors, steps: int, repeats: int, masked: bool) -> tuple[float, float]:
    """Median seconds per step of our loop's train_epoch and of the minimal loop, alternating epochs."""
    core = Trainer(cfg, data, init_model(cfg, data), [], phase="cycle")
    model = init_model(cfg, data)
    masked_layers = mask_connections(model) if masked else []
    if masked:
        mask_connections(core.model)
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    generator = torch.Generator().manual_seed(0)
    core_times, minimal_times = [], []
    for _ in range(repeats + 1):  # the first round warms up both
        core_times.append(seconds(lambda: core.train_epoch(0)))
        minimal_times.append(seconds(lambda: minimal_epoch(model, optimizer, data.train_x, data.train_y,
                                                           cfg.batch_size, generator, masked_layers)))
    return statistics.median(core_times[1:]) / steps, statistics.median(minimal_times[1:]) / steps


def measure(name: str, repeats: int, folder: Path) -> list[dict]:
    cfg, shape, images, paper_steps = CASES[name]
    spec = {"source": "synthetic", "train_size": images, "test_size": 256, "seed": 0, **shape}
    path = folder / f"{name}.pt"
    prepare_dataset(name, spec, folder / "raw", path)
    data = Tensors.load(cfg, path, torch.device("cpu"))
    steps = images // cfg.batch_size

    core_step, minimal_step = step_seconds(cfg, data, steps, repeats, masked=False)
    masked_core_step, masked_minimal_step = step_seconds(cfg, data, steps, repeats, masked=True)
    core = Trainer(cfg, data, init_model(cfg, data), [], phase="cycle")

    paper_epoch = paper_steps * core_step
    paper_run = cfg.total_epochs * paper_epoch
    edits = cfg.cycles - 1
    grow, prune = (edit_seconds(cfg, data, method, repeats) for method in ("grow", "prune"))
    checkpoint = median_seconds(lambda: core.save_checkpoint(folder / "checkpoint.pt"), repeats)
    row = {"model": name, "threads": torch.get_num_threads(), "batch": cfg.batch_size}
    return [
        {**row, "quantity": "training step, our core", "value": 1e3 * core_step, "unit": "ms"},
        {**row, "quantity": "training step, minimal loop", "value": 1e3 * minimal_step, "unit": "ms"},
        {**row, "quantity": "core / minimal", "value": core_step / minimal_step, "unit": "x"},
        {**row, "quantity": "training step with connection masks, our core", "value": 1e3 * masked_core_step,
         "unit": "ms"},
        {**row, "quantity": "training step with connection masks, minimal loop", "value": 1e3 * masked_minimal_step,
         "unit": "ms"},
        {**row, "quantity": "core / minimal, connection masks", "value": masked_core_step / masked_minimal_step,
         "unit": "x"},
        {**row, "quantity": "one Grow edit", "value": 1e3 * grow, "unit": "ms"},
        {**row, "quantity": "Grow edits over a paper run", "value": 100 * edits * grow / paper_run, "unit": "%"},
        {**row, "quantity": "one Prune edit (+ rewind, optimizer reset)", "value": 1e3 * prune, "unit": "ms"},
        {**row, "quantity": "Prune edits over a paper run", "value": 100 * edits * prune / paper_run, "unit": "%"},
        {**row, "quantity": "one checkpoint save", "value": 1e3 * checkpoint, "unit": "ms"},
        {**row, "quantity": "checkpoints (one per epoch) over a paper run", "value": 100 * checkpoint / paper_epoch,
         "unit": "%"},
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/core_speed.csv"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        rows = [row for name in CASES for row in measure(name, args.repeats, Path(folder))]
    table = pd.DataFrame(rows)
    atomic_write_csv(table, args.out)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    main()
