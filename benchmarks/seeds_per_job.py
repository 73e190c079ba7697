"""Snakemake wall time of the 3 seeds of one quick setting, method and c, trained as 3 jobs (seeds_per_job 1) or
as 1 job (seeds_per_job 3), one core (`--cores 1`), from an empty workdir that has only the quick dataset file.
The two alternate within each repeat; medians are reported. Both include Snakemake's own start and DAG.

    .venv/bin/python benchmarks/seeds_per_job.py [--repeats 3] [--target split_fashion_er/grow/c20]
        [--out benchmarks/results/seeds_per_job.csv]

Needs results/quick/data/fashion_mnist.pt (`snakemake results/quick/data/fashion_mnist.pt --config scale=quick`).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from plasticity.io import atomic_write_csv, job_time

REPO = Path(__file__).resolve().parents[1]
DATASET = Path("results/quick/data/fashion_mnist.pt")
SEEDS = (1, 2, 3)


def dag_seconds(seeds_per_job: int, target: str) -> tuple[float, float]:
    """(Snakemake wall seconds, summed run wall seconds from the runs' logs) of the 3 runs from nothing."""
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / DATASET).parent.mkdir(parents=True)
        shutil.copy(REPO / DATASET, work / DATASET)
        (work / "overlay.yaml").write_text(yaml.safe_dump({"scales": {"quick": {"seeds_per_job": seeds_per_job}}}))
        outputs = [f"results/quick/runs/{target}/seed{seed}/train/epochs.csv" for seed in SEEDS]
        command = [sys.executable, "-m", "snakemake", *outputs, "--snakefile", str(REPO / "Snakefile"),  # targets first:
                   "--directory", str(work), "--cores", "1", "--quiet", "all",  # --quiet and --config take lists
                   "--configfile", str(REPO / "config.yaml"), str(work / "overlay.yaml"), "--config", "scale=quick"]
        start = time.perf_counter()
        subprocess.run(command, check=True, timeout=3600, capture_output=True)
        wall = time.perf_counter() - start
        runs = sum(job_time((work / f"logs/quick/runs/{target}/seed{seed}/train.log").read_text())[0] for seed in SEEDS)
    return wall, runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--target", default="split_fashion_er/grow/c20", help="setting/method/c<c> of the runs")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/seeds_per_job.csv"))
    args = parser.parse_args()
    if not (REPO / DATASET).exists():
        raise SystemExit(f"{DATASET} is missing: snakemake {DATASET} --config scale=quick")
    times = {1: [], 3: []}
    for _ in range(args.repeats):
        for per_job in times:
            times[per_job].append(dag_seconds(per_job, args.target))
    rows = [{"target": args.target, "seeds_per_job": per_job, "jobs": len(SEEDS) // per_job,
             "snakemake_wall_s": statistics.median(t[0] for t in samples),
             "runs_wall_s": statistics.median(t[1] for t in samples)} for per_job, samples in times.items()]
    table = pd.DataFrame(rows)
    atomic_write_csv(table, args.out)
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
