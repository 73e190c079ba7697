"""The square root in Adam's step on a unit-masked network, on this machine with one thread.

On the CPU, torch's sqrt of 0 takes several times as long as sqrt of a normal number, and a masked unit's
second moments are exactly 0 (it gets no gradient): plasticity.optim.Adam raises values below the smallest normal
float before its sqrt (same bits of the update while eps >= 1e-10, tests/test_optim.py). This measures the
second-moment tensors of the MLP (784-256-256-10) with 0%, 80% and 90% of the hidden units masked, both ways.

    .venv/bin/python benchmarks/adam_sqrt.py [--repeats 300] [--out benchmarks/results/adam_sqrt.csv]
"""

from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd
import torch

from plasticity.io import atomic_write_csv
from plasticity.optim import FLOAT32_TINY

SHAPES = [(256, 784), (256,), (256, 256), (256,), (10, 256), (10,)]  # the MLP's weights and biases


def second_moments(masked: float, generator: torch.Generator) -> list[torch.Tensor]:
    """Adam's exp_avg_sq of each parameter, 0 for the masked units' incoming and outgoing weights."""
    units = 256
    active = torch.rand(units, generator=generator) >= masked
    moments = []
    for shape in SHAPES:
        values = torch.rand(shape, generator=generator) * 1e-6
        if shape[0] == units:
            values[~active] = 0
        if len(shape) == 2 and shape[1] == units:
            values[:, ~active] = 0
        moments.append(values)
    return moments


def timed(function, tensors: list[torch.Tensor], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for tensor in tensors:
            function(tensor)
        samples.append(time.perf_counter() - start)
    return 1e3 * statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--out", default="benchmarks/results/adam_sqrt.csv")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for masked in (0.0, 0.8, 0.9):
        moments = second_moments(masked, torch.Generator().manual_seed(0))
        plain = timed(lambda v: v.sqrt(), moments, args.repeats)
        raised = timed(lambda v: v.clamp_min(FLOAT32_TINY).sqrt_(), moments, args.repeats)
        rows.append({"masked_units": masked, "plain_sqrt_ms": plain, "raised_sqrt_ms": raised, "ratio": plain / raised,
                     "torch": torch.__version__})
        print(f"{masked:.0%} of the hidden units masked: sqrt {plain:.3f} ms, raised first {raised:.3f} ms "
              f"({plain / raised:.2f}x), per step over the MLP's parameters (median of {args.repeats})")
    atomic_write_csv(pd.DataFrame(rows), args.out)


if __name__ == "__main__":
    main()
