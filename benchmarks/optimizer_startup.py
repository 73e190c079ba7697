"""Start-up of a fresh Python process up to its first optimizer step, with torch.optim against plasticity.optim:
what every Snakemake training job pays once. The two alternate within each repeat; medians are reported.

    .venv/bin/python benchmarks/optimizer_startup.py [--repeats 9] [--out benchmarks/results/optimizer_startup.csv]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from plasticity.io import atomic_write_csv

FIRST_STEP = (
    "import torch\n"
    "{make}\n"
    "model = torch.nn.Linear(784, 10)\n"
    "optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)\n"
    "model(torch.randn(64, 784)).sum().backward()\n"
    "optimizer.step()\n"
)
OPTIMIZERS = {"torch.optim.SGD": "from torch.optim import SGD", "plasticity.optim.SGD": "from plasticity.optim import SGD"}


def seconds(source: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", source], check=True, timeout=600)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/optimizer_startup.csv"))
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in OPTIMIZERS}
    seconds("import torch")  # warm the file cache for both
    for _ in range(args.repeats):
        for name, make in OPTIMIZERS.items():
            times[name].append(seconds(FIRST_STEP.format(make=make)))
    medians = {name: statistics.median(values) for name, values in times.items()}
    rows = [{"quantity": f"process start to first step, {name}", "value": value, "unit": "s"}
            for name, value in medians.items()]
    rows.append({"quantity": "saved per job", "unit": "s",
                 "value": medians["torch.optim.SGD"] - medians["plasticity.optim.SGD"]})
    table = pd.DataFrame(rows)
    atomic_write_csv(table, args.out)
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
