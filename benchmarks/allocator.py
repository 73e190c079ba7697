"""Wall time and page faults of single training runs with glibc's default heap and with the job processes'
GLIBC_TUNABLES (plasticity.io.MALLOC_TUNABLES, set by the Snakefile for every job), on this machine, one thread:

    .venv/bin/python benchmarks/allocator.py [--repeats 3] [--out benchmarks/results/allocator.csv]

Each case is a whole resolved quick run (seed 1; shortened ones show no difference: the faults build up over the
epochs) on synthetic data in Fashion-MNIST's shape (a step's cost does not depend on pixel values), trained in a
fresh Python process as a job trains it; the two heaps alternate within each repeat, so slow drifts of the machine
hit both alike, and medians are reported. Page faults are the child's minor faults
(getrusage). The numbers a run computes are the same under both: the tunables only move where memory comes from.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from core_speed import CONFIG  # benchmarks/ is on sys.path when run as a script
from stream_step import machine
from plasticity.config import run_config
from plasticity.data import prepare_dataset
from plasticity.io import MALLOC_TUNABLES, atomic_write_csv

# (setting, method, c): the quick ConvNet, its RSL variant, GCG's CNN (BatchNorm, masked convs), SWR's CNN and an MLP.
CASES = [("fashion_conv_iid", "grow", 20), ("fashion_conv_iid-rsl", "grow", 20), ("gcg_fashion_cnn", "pathgrow", 10),
         ("swr_fashion_cnn_single", "dense", 100), ("fashion_iid", "prune", 20)]
ONE_RUN = """
import sys, json
from pathlib import Path
import torch
from plasticity.run import RunConfig
from plasticity.train import train_run
train_run(RunConfig.from_dict(json.loads(sys.argv[1])), dataset_path=Path(sys.argv[2]), out_dir=Path(sys.argv[3]),
          threads=1, keep_checkpoint=False, checkpoint_seconds=30)
"""


def timed_run(run: dict, dataset: Path, folder: Path, tunables: str | None) -> tuple[float, int]:
    """(wall seconds, minor page faults) of one training run in a fresh process."""
    env = {key: value for key, value in os.environ.items() if key != "GLIBC_TUNABLES"}
    if tunables:
        env["GLIBC_TUNABLES"] = tunables
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", ONE_RUN, json.dumps(run), str(dataset), str(folder)], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/allocator.csv"))
    args = parser.parse_args()
    stamp = {**machine(), "threads": 1}  # of the runs' processes (train_run sets it), not of this one
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        dataset = folder / "fashion_shaped.pt"
        spec = {"source": "synthetic", "train_size": 6000, "test_size": 2000, "seed": 0, "shape": [1, 28, 28],
                "classes": 10}
        prepare_dataset("fashion_shaped", spec, folder / "raw", dataset)
        for setting, method, c in CASES:
            run = run_config(CONFIG, "quick", setting, method, c, 1)
            times = {"default": [], "ours": []}
            for repeat in range(args.repeats):
                for heap, tunables in (("default", None), ("ours", MALLOC_TUNABLES)):
                    seconds, faults = timed_run(run, dataset, folder / f"{setting}-{heap}-{repeat}", tunables)
                    times[heap].append((seconds, faults))
            for heap, samples in times.items():
                rows.append({"setting": setting, "method": method, "c": c, "heap": heap,
                             "wall_s": statistics.median(s for s, _ in samples),
                             "minor_faults": statistics.median(f for _, f in samples), **stamp})
            default, ours = (statistics.median(s for s, _ in times[h]) for h in ("default", "ours"))
            print(f"{setting} {method} c{c}: default heap {default:.2f} s, ours {ours:.2f} s ({ours / default:.2f}x)",
                  flush=True)
    atomic_write_csv(pd.DataFrame(rows), args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
