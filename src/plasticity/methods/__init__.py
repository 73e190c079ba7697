"""Unit-edit methods: hooks (plasticity.hooks) that change the unit masks through Trainer.apply_edit.

Dense is the base Hook itself (it never edits). Grow and Prune edit at task boundaries (on_task_start), at those
RunConfig.edit_index names;
a method may as well edit every N optimizer steps (after_step) or when a rule of its own fires.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plasticity.masks import allocation_biases, unit_targets

if TYPE_CHECKING:
    from plasticity.models import MaskedNet
    from plasticity.run import RunConfig


def layer_targets(model: MaskedNet, cfg: RunConfig) -> dict[str, int]:
    """Final active-unit count of each masked layer at the run's compactness and allocation."""
    layers = model.hidden
    biases = allocation_biases(cfg.allocation, len(layers))
    targets = unit_targets([(l.fan_in, l.units) for l in layers.values()], cfg.compactness, biases)
    return dict(zip(layers, targets))


def rewinds(cfg: RunConfig) -> bool:
    """Whether the run's method puts its weights back to their initial values at every cycle boundary."""
    return cfg.method == "prune" and cfg.prune.rewind != "none"

