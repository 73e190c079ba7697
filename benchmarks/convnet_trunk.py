"""Cost of the quick ConvNet at the protocol's trunk widths (32, 64) against the quick scale's (16, 32):
one training step (batch 16, SGD) and one test pass (1,000 images in chunks of 256), one thread as Snakemake
runs each job, on Fashion-MNIST-shaped input.

    .venv/bin/python benchmarks/convnet_trunk.py [--repeats 7] [--out benchmarks/results/convnet_trunk.csv]

The widths alternate within each repeat; medians are reported. config.yaml's quick ConvNet settings quote it.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

from plasticity.io import atomic_write_csv
from plasticity.models import build_model

WIDTHS = {"protocol (32, 64)": (32, 64), "quick (16, 32)": (16, 32)}
STEPS = 50  # per timed block
TEST_IMAGES = 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/convnet_trunk.csv"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    models = {name: build_model("convnet", (1, 28, 28), (512, 512, 256), 10, widths) for name, widths in WIDTHS.items()}
    optimizers = {name: torch.optim.SGD(model.parameters(), lr=0.1) for name, model in models.items()}
    x, y = torch.randn(16, 1, 28, 28), torch.randint(0, 10, (16,))
    test_x = torch.randn(TEST_IMAGES, 1, 28, 28)
    step_s = {name: [] for name in models}
    test_s = {name: [] for name in models}
    for _ in range(args.repeats):
        for name, model in models.items():
            started = time.perf_counter()
            for _ in range(STEPS):
                optimizers[name].zero_grad()
                F.cross_entropy(model(x), y).backward()
                optimizers[name].step()
            step_s[name].append((time.perf_counter() - started) / STEPS)
            started = time.perf_counter()
            with torch.no_grad():
                torch.cat([model(part) for part in test_x.split(256)])
            test_s[name].append(time.perf_counter() - started)
    table = pd.DataFrame([
        {"trunk": name, "parameters": sum(p.numel() for p in model.parameters()),
         "train_step_ms": 1e3 * statistics.median(step_s[name]), "test_pass_ms": 1e3 * statistics.median(test_s[name])}
        for name, model in models.items()
    ])
    atomic_write_csv(table, args.out)
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
