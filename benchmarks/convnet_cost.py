"""Cost of the ConvNet regime on this machine: one paper-scale CIFAR-shaped epoch, the newborn probe's
overhead over a whole run, and the projected CPU-hours of the paper-scale ConvNet studies.

    .venv/bin/python benchmarks/convnet_cost.py [--out benchmarks/results/convnet_cost.csv]

Synthetic data of CIFAR-100 shape (50,000 x 3 x 32 x 32, 100 classes) stands in for CIFAR: the cost of a
step does not depend on pixel values. One thread, as Snakemake runs each job.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
import yaml

from plasticity.config import default_run, load_config, run_grid, ticket_grid
from plasticity.data import prepare_dataset
from plasticity.hooks import build_hooks
from plasticity.io import atomic_write_csv
from plasticity.probes import NewbornProbe
from plasticity.run import RunConfig
from plasticity.train import Tensors, Trainer, init_model

REPO = Path(__file__).resolve().parents[1]
CIFAR_SHAPE = {"source": "synthetic", "classes": 100, "train_size": 50_000, "test_size": 10_000, "seed": 0,
               "shape": [3, 32, 32]}


class TimedProbe:
    """A probe whose hook methods add up the seconds they take: the probe's own cost, free of run-to-run noise."""

    def __init__(self, probe: NewbornProbe):
        self.probe = probe
        self.seconds = 0.0

    def __getattr__(self, name: str):
        hook = getattr(self.probe, name)

        def timed(*args):
            started = time.perf_counter()
            try:
                return hook(*args)
            finally:
                self.seconds += time.perf_counter() - started

        return timed


def timed_run(cfg: RunConfig, data: Tensors) -> tuple[float, float]:
    """Seconds of the whole run, and of it the seconds spent in the probe."""
    hooks = [TimedProbe(hook) if isinstance(hook, NewbornProbe) else hook for hook in build_hooks(cfg, "cycle")]
    trainer = Trainer(cfg, data, init_model(cfg, data), hooks, phase="cycle")
    started = time.perf_counter()
    trainer.run()
    return time.perf_counter() - started, sum(hook.seconds for hook in hooks if isinstance(hook, TimedProbe))


def paper_jobs() -> tuple[int, int, float]:
    """Training runs, tickets and epochs (runs + tickets) of the paper-scale ConvNet studies."""
    cfg = load_config(yaml.safe_load((REPO / "config.yaml").read_text()))
    studies = ["convnet", "heuristics", "allocation", "cycles"]
    key = lambda run: (run["setting"], run["method"], run["c"], run["seed"])  # noqa: E731
    runs = {key(run): run for study in studies for run in run_grid(cfg, "paper", study)}
    tickets = {key(run): run for study in studies for run in ticket_grid(cfg, "paper", study)}
    epochs = sum(run["cycles"] * run["epochs_per_cycle"] for run in [*runs.values(), *tickets.values()])
    return len(runs), len(tickets), epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/convnet_cost.csv"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cifar_shaped.pt"
        prepare_dataset("cifar_shaped", CIFAR_SHAPE, Path(folder) / "raw", path)
        cfg = load_config(yaml.safe_load((REPO / "config.yaml").read_text()))
        fields = dict(setting="bench", method="grow", c=30, seed=1, dataset="cifar_shaped", model="convnet",
                      hidden=[512, 512, 256], cycles=2, epochs_per_cycle=1, lr=0.1, device="cpu")
        base = default_run(cfg, **fields)
        data = Tensors.load(base, path, torch.device("cpu"))
        without_probe, _ = timed_run(base, data)
        with_probe, in_probe = timed_run(default_run(cfg, **fields, probe={"enabled": True}), data)
    runs, tickets, epochs = paper_jobs()
    epoch_seconds = without_probe / base.total_epochs
    rows = [
        {"quantity": "paper CIFAR-shaped ConvNet epoch (782 steps of 64, + test pass)", "value": epoch_seconds,
         "unit": "s"},
        {"quantity": "Grow run, 2 cycles x 1 epoch, without probe", "value": without_probe, "unit": "s"},
        {"quantity": "Grow run, 2 cycles x 1 epoch, with probe", "value": with_probe, "unit": "s"},
        {"quantity": "of which in the probe's hooks", "value": in_probe, "unit": "s"},
        {"quantity": "probe overhead (probe time / rest of the run)", "value": 100 * in_probe / (with_probe - in_probe),
         "unit": "%"},
        {"quantity": "probe overhead (run with / run without - 1; includes run-to-run noise)",
         "value": 100 * (with_probe / without_probe - 1), "unit": "%"},
        {"quantity": "paper ConvNet studies: training runs", "value": runs, "unit": "jobs"},
        {"quantity": "paper ConvNet studies: tickets", "value": tickets, "unit": "jobs"},
        {"quantity": "paper ConvNet studies: epochs", "value": epochs, "unit": "epochs"},
        {"quantity": "paper ConvNet studies: projected CPU time", "value": epochs * epoch_seconds / 3600,
         "unit": "CPU-hours"},
    ]
    table = pd.DataFrame(rows)
    atomic_write_csv(table, args.out)
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
