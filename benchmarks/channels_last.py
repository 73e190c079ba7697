"""Speed of the conv models in torch's default NCHW layout against channels-last (what build_model uses), one
thread as Snakemake runs each job: one SGD training step at the quick scale's batch size and one test pass in
chunks (train.EVAL_CHUNK, and larger ones), on Fashion-MNIST-shaped input.

    .venv/bin/python benchmarks/channels_last.py [--repeats 7] [--out benchmarks/results/channels_last.csv]

Layouts alternate within each repeat; medians are reported. The script first checks that both layouts give the
same logits up to float rounding (the sums inside a convolution are ordered differently).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

from plasticity.io import atomic_write_csv
from plasticity.models import build_model

# model -> (hidden, training batch, test images) of its quick settings
CASES = {"convnet": ((512, 512, 256), 16, 1000), "cnn_bn": ((100,), 64, 2000)}
CHUNKS = (256, 1024)
STEPS = 30  # per timed block


class NCHW(torch.nn.Module):
    """The same network with its trunk and input in torch's default layout."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model
        model.trunk.to(memory_format=torch.contiguous_format)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.model.trunk(x.contiguous()).flatten(1)
        for layer in self.model.hidden.values():
            h = self.model.act(layer.project(h)) * layer.mask
        return self.model.head(h)


@torch.no_grad()
def test_pass(model: torch.nn.Module, x: torch.Tensor, chunk: int) -> torch.Tensor:
    return torch.cat([model(part) for part in x.split(chunk)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/channels_last.csv"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for kind, (hidden, batch, images) in CASES.items():
        torch.manual_seed(0)
        ours = build_model(kind, (1, 28, 28), hidden, 10, (16, 32))
        layouts = {"channels-last": ours, "NCHW": NCHW(copy.deepcopy(ours))}
        x, y = torch.randn(batch, 1, 28, 28), torch.randint(0, 10, (batch,))
        test_x = torch.randn(images, 1, 28, 28)
        logits = [test_pass(model.eval(), test_x, CHUNKS[0]) for model in layouts.values()]
        if not torch.allclose(*logits, atol=1e-5):
            raise SystemExit(f"{kind}: the layouts disagree by {(logits[0] - logits[1]).abs().max():.2e}")
        optimizers = {name: torch.optim.SGD(model.parameters(), lr=0.01) for name, model in layouts.items()}
        times = {}
        for _ in range(args.repeats):
            for name, model in layouts.items():
                model.train()
                started = time.perf_counter()
                for _ in range(STEPS):
                    optimizers[name].zero_grad()
                    F.cross_entropy(model(x), y).backward()
                    optimizers[name].step()
                times.setdefault((name, "training step", batch), []).append((time.perf_counter() - started) / STEPS)
                model.eval()
                for chunk in CHUNKS:
                    started = time.perf_counter()
                    test_pass(model, test_x, chunk)
                    times.setdefault((name, f"test pass of {images}", chunk), []).append(time.perf_counter() - started)
        for (layout, work, size), seconds in times.items():
            rows.append({"model": kind, "work": work, "batch_or_chunk": size, "layout": layout,
                         "ms": 1e3 * statistics.median(seconds)})
    table = pd.DataFrame(rows)
    atomic_write_csv(table, args.out)
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
