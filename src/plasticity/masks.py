"""Unit budgets and edit sizes (PROTOCOL.md section 2)."""

from __future__ import annotations

import math

import torch


# Per-layer budget biases b_l of the three masked FC layers of the ConvNet (PROTOCOL.md section 2).
ALLOCATION_SCHEDULES = {
    "fc1_protect": (1.5, 1.5, 0.6),
    "fc3_protect": (0.6, 0.6, 1.5),
    "ends_skewed": (1.2, 0.6, 1.2),
}


def allocation_biases(schedule: str, layers: int) -> tuple[float, ...]:
    if schedule == "neutral":
        return (1.0,) * layers
    biases = ALLOCATION_SCHEDULES[schedule]
    if len(biases) != layers:
        raise ValueError(f"allocation schedule {schedule!r} is defined for {len(biases)} masked layers, "
                         f"the model has {layers}: use 'neutral'")
    return biases


def round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def unit_targets(layers: list[tuple[int, int]], compactness: float, biases: tuple[float, ...]) -> list[int]:
    """Final unit count per masked layer for a kept weight fraction `compactness`.

    `layers` holds (fan_in, units) per masked layer. With M_l = fan_in_l * units_l the budget
    B = c * sum M_l is split as B_l = B b_l M_l / sum_k b_k M_k; a layer whose share exceeds M_l is
    clipped to all its units and the excess goes to the unclipped layers in proportion to b_l M_l.
    """
    sizes = [fan_in * units for fan_in, units in layers]
    remaining = compactness * sum(sizes)
    fractions = [1.0] * len(layers)
    unclipped = list(range(len(layers)))
    while unclipped:
        weight = sum(biases[l] * sizes[l] for l in unclipped)
        clipped = [l for l in unclipped if remaining * biases[l] / weight >= 1.0]
        if not clipped:
            for l in unclipped:
                fractions[l] = remaining * biases[l] / weight
            break
        for l in clipped:
            remaining -= sizes[l]
            unclipped.remove(l)
    return [max(1, round_half_up(f * units)) for f, (_, units) in zip(fractions, layers)]


def edit_count(still_to_edit: int, event: int, events: int, available: int) -> int:
    """Units to add or remove at event `event` (0-based) of `events`: the rest spread evenly."""
    return min(still_to_edit, math.ceil(still_to_edit / max(1, events - event)), available)


def random_subset_mask(units: int, active: int, generator: torch.Generator) -> torch.Tensor:
    mask = torch.zeros(units)
    mask[torch.randperm(units, generator=generator)[:active]] = 1.0
    return mask


def top_units(scores: torch.Tensor, candidates: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    """Indices of the n highest-scoring candidate units; ties are broken at random, not by index."""
    shuffled = candidates[torch.randperm(len(candidates), generator=generator)]
    order = torch.argsort(scores[shuffled], descending=True, stable=True)
    return shuffled[order[:n]]


def connection_targets(weights: dict[str, int], density: float) -> dict[str, int]:
    """Weights kept per layer at a global `density`, a connection mask's budget in weights (not units): each
    layer of `weights` (name -> number of weights) keeps round(density x its weights), at least one."""
    return {name: max(1, round_half_up(density * count)) for name, count in weights.items()}
