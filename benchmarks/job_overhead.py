"""Snakemake per-run overhead of a finished DAG, from its own records:

- each training run's and ticket's wall time (the last line of its log, logs/<scale>/runs/**/{train,ticket}.log,
  written by plasticity.io.job_log; in a job of several seeds, seeds_per_job, the process start counts to
  the first run and each later run from the end of the one before),
- the seconds its epochs took (the "(1.4s)" of every progress line in the same log),
- optionally the DAG's wall time and core count, for the time no job was running.

    .venv/bin/python benchmarks/job_overhead.py logs/quick [--cores 2 --dag-seconds 2700]
        [--out benchmarks/results/job_overhead_quick.csv]

Overhead = run wall time - epoch time: interpreter start-up and imports (first run of a job), loading the
dataset, checkpoints, writing outputs. Scheduling is what the cores spent outside any run.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd

from plasticity.io import atomic_write_csv, job_time

EPOCH_SECONDS = re.compile(r"\] epoch \d+/\d+ .*\(([\d.]+)s\)$")


def job_table(logs: Path) -> pd.DataFrame:
    rows = []
    for log in sorted(logs.rglob("*.log")):
        if log.stem not in ("train", "ticket"):
            continue
        text = log.read_text()
        times = job_time(text)
        if times is None:  # the job did not finish
            continue
        epochs = [float(m.group(1)) for line in text.splitlines() if (m := EPOCH_SECONDS.search(line))]
        rows.append({"job": str(log.relative_to(logs).parent), "rule": log.stem, "wall_s": times[0],
                     "cpu_s": times[1], "epochs_s": sum(epochs)})
    if not rows:
        raise SystemExit(f"no finished train/ticket job logs under {logs}: run the DAG first")
    jobs = pd.DataFrame(rows)
    jobs["overhead_s"] = jobs["wall_s"] - jobs["epochs_s"]
    return jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", type=Path, help="the scale's log folder, e.g. logs/quick")
    parser.add_argument("--cores", type=int, help="cores the DAG ran on")
    parser.add_argument("--dag-seconds", type=float, help="wall time of the whole DAG")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    jobs = job_table(args.logs)
    rows = []
    for rule, group in jobs.groupby("rule"):
        rows += [
            {"rule": rule, "quantity": "runs", "value": len(group)},
            {"rule": rule, "quantity": "median run wall time (s)", "value": group["wall_s"].median()},
            {"rule": rule, "quantity": "median run CPU time (s)", "value": group["cpu_s"].median()},
            {"rule": rule, "quantity": "median overhead per run (s)", "value": group["overhead_s"].median()},
            {"rule": rule, "quantity": "overhead share of run time (%)",
             "value": 100 * group["overhead_s"].sum() / group["wall_s"].sum()},
        ]
    if args.cores and args.dag_seconds:
        busy = jobs["wall_s"].sum()
        rows.append({"rule": "all", "quantity": "core time outside training runs and tickets (%)",
                     "value": 100 * (1 - busy / (args.cores * args.dag_seconds))})
    table = pd.DataFrame(rows)
    if args.out:
        atomic_write_csv(table, args.out)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    main()
