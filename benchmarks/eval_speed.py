"""Speed of a test pass, one thread as Snakemake runs each job: the ConvNet's 2x2 max-pools in torch's NCHW
kernel against plasticity.models.MaxPool2d (channels-last when no gradient is taken), at several
evaluation chunk sizes, on the quick ConvNet test set (1,000 Fashion-MNIST-shaped images) and the quick MLP
test set (5,000).

    .venv/bin/python benchmarks/eval_speed.py [--repeats 7] [--out benchmarks/results/eval_speed.csv]

The quick ConvNet job spends about a quarter of its epochs in test passes (cProfile of one quick Grow run,
2026-12-02: 12.1 s of 38.7 s). Variants alternate within each repeat; medians are reported. The script first
checks that both pools give the same logits.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import pandas as pd
import torch
from torch import nn

from plasticity.io import atomic_write_csv
from plasticity.models import MaxPool2d, build_model

CASES = {"convnet": ((512, 512, 256), 1000), "mlp": ((256, 256), 5000)}
CHUNKS = (256, 1024, 4096)


def with_torch_pools(model: nn.Module) -> nn.Module:
    """The same model with torch's nn.MaxPool2d wherever it has ours."""
    for module in model.modules():
        for name, child in module.named_children():
            if isinstance(child, MaxPool2d):
                setattr(module, name, nn.MaxPool2d(child.kernel_size))
    return model


@torch.no_grad()
def test_pass(model: nn.Module, x: torch.Tensor, chunk: int) -> torch.Tensor:
    return torch.cat([model(part) for part in x.split(chunk)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/eval_speed.csv"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for kind, (hidden, images) in CASES.items():
        torch.manual_seed(0)
        ours = build_model(kind, (1, 28, 28), hidden, 10).eval()
        torchs = with_torch_pools(build_model(kind, (1, 28, 28), hidden, 10)).eval()
        torchs.load_state_dict(ours.state_dict())
        x = torch.randn(images, 1, 28, 28)
        if not torch.equal(test_pass(ours, x, CHUNKS[0]), test_pass(torchs, x, CHUNKS[0])):
            raise SystemExit(f"{kind}: MaxPool2d changes the logits")
        variants = {(pool, chunk): model for pool, model in (("MaxPool2d (ours)", ours), ("nn.MaxPool2d", torchs))
                    for chunk in CHUNKS}
        times = {variant: [] for variant in variants}
        for _ in range(args.repeats):
            for (pool, chunk), model in variants.items():
                started = time.perf_counter()
                test_pass(model, x, chunk)
                times[pool, chunk].append(time.perf_counter() - started)
        for (pool, chunk), seconds in times.items():
            rows.append({"model": kind, "images": images, "pool": pool, "chunk": chunk,
                         "test_pass_ms": 1e3 * statistics.median(seconds)})
    table = pd.DataFrame(rows)
    atomic_write_csv(table, args.out)
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
