"""Methods are plug-ins of the one training loop in plasticity.train.

A run has two plug-ins: its unit-edit method (Dense, Grow, Prune) and its weight regulariser
(plasticity.methods.regularizers: none, L2, L2-Init, Shrink & Perturb, head reset, SWR). Both subclass
Method and override a few of its hooks; the loop calls each hook on the method, then on the regulariser:

- setup: once before training; on_cycle_boundary: before each cycle after the first (a data change).
  Both return the edit events they made (one dict per layer) so the loop can record them.
- penalty: a term added to the loss of every mini-batch (L2, L2-Init).
- after_step: after every optimizer step (SWR's rescaling).
- on_lr_decay: at the start of an epoch whose learning rate is lower than the previous epoch's
  (SWR + re-init resets its reference norms there).

Dense is the base class itself: it never edits its masks; as a regulariser it is "none" (vanilla).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plasticity.masks import allocation_biases, unit_targets

if TYPE_CHECKING:
    import torch

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

    def penalty(self, trainer: Trainer) -> torch.Tensor | float:
        return 0.0

    def after_step(self, trainer: Trainer) -> None:
        pass

    def on_lr_decay(self, trainer: Trainer) -> None:
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


def rewinds(cfg: RunConfig) -> bool:
    """Whether the run's method puts its weights back to their initial values at every cycle boundary."""
    return cfg.method == "prune" and cfg.prune.rewind != "none"


def make_method(cfg: RunConfig) -> Method:
    from plasticity.methods.grow import Grow
    from plasticity.methods.prune import Prune

    methods = {"dense": Method, "grow": Grow, "prune": Prune}
    if cfg.method not in methods:
        raise ValueError(f"unknown method {cfg.method!r}: expected one of {sorted(methods)}")
    return methods[cfg.method]()
