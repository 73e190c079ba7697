"""Methods are plug-ins of the one training loop in plasticity.train.

A method overrides a few hooks; each returns the edit events it made (one dict per layer) so the
loop can record them. Dense is the base class itself: it never edits its masks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plasticity.masks import allocation_biases, unit_targets

if TYPE_CHECKING:
    from plasticity.models import MaskedNet
    from plasticity.run import RunConfig
    from plasticity.train import Trainer


class Method:
    """Dense: all units active for the whole run."""

    def setup(self, trainer: Trainer) -> list[dict]:
        return []

    def on_cycle_boundary(self, trainer: Trainer, cycle: int) -> list[dict]:
        """Called before cycle `cycle` (1-based boundary index: 1 .. cycles-1) starts."""
        return []

    def after_step(self, trainer: Trainer) -> None:
        pass


def layer_targets(model: MaskedNet, cfg: RunConfig) -> dict[str, int]:
    """Final active-unit count of each masked layer at the run's compactness and allocation."""
    layers = model.hidden
    biases = allocation_biases(cfg.allocation, len(layers))
    targets = unit_targets([(l.fan_in, l.units) for l in layers.values()], cfg.compactness, biases)
    return dict(zip(layers, targets))


def edit_event(kind: str, layer: str, before: int, after: int, target: int) -> dict:
    return {"kind": kind, "layer": layer, "n_edited": abs(after - before),
            "active_before": before, "active_after": after, "target": target}


def make_method(cfg: RunConfig) -> Method:
    from plasticity.methods.grow import Grow
    from plasticity.methods.prune import Prune

    methods = {"dense": Method, "grow": Grow, "prune": Prune}
    if cfg.method not in methods:
        raise ValueError(f"unknown method {cfg.method!r}: expected one of {sorted(methods)}")
    return methods[cfg.method]()
