"""Interventions that help newborn units integrate (PROTOCOL.md section 5): hooks that act at every birth.

A birth is an edit that activates units (Edit.births); the edit carries the selection score of every unit of the
layers it scored, and a newborn's donor is an incumbent of the same layer chosen by that score (`grow.donor`):
"best", the incumbent with the highest score for every newborn (the protocol's decision), or "ranked", the
newborns in descending score order each take the next-best incumbent (cycling when they outnumber them).
"""

from __future__ import annotations

import torch

from plasticity.hooks import Edit, Hook
from plasticity.run import RunConfig
from plasticity.streams import seeded_generator
from plasticity.surgery import copy_state, split_units, unit_slices


def donor_pairs(edit: Edit, layer: str, rule: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(newborns, donors) of one layer of a birth, index for index."""
    scores = edit.scores.get(layer)
    if scores is None:
        raise ValueError(f"edit {edit.kind} {edit.event} carries no selection scores of layer {layer}: "
                         f"a donor needs them (the Grow method scores every unit it chooses from)")
    scores = scores.cpu()
    newborns = torch.nonzero(edit.added(layer).cpu()).flatten()
    incumbents = torch.nonzero(((edit.before[layer] > 0) & ~edit.removed(layer)).cpu()).flatten()
    if not len(incumbents):
        raise ValueError(f"layer {layer} has no incumbent unit to be a donor at edit {edit.event}")
    newborns = newborns[torch.argsort(scores[newborns], descending=True, stable=True)]
    ranked = incumbents[torch.argsort(scores[incumbents], descending=True, stable=True)]
    if rule == "best":
        return newborns, ranked[:1].repeat(len(newborns))
    return newborns, ranked[torch.arange(len(newborns)) % len(ranked)]


class Net2Wider(Hook):
    """At birth each newborn becomes a copy of its donor, the donor's outgoing weights split between them: the
    network's function is unchanged by the birth (exactly, with net2wider_noise 0)."""

    def __init__(self, cfg: RunConfig):
        self.donor, self.noise = cfg.grow.donor, cfg.grow.net2wider_noise
        self.generator = seeded_generator(cfg.seed, "net2wider")

    def on_edit(self, trainer, edit: Edit) -> None:
        for layer in edit.births():
            newborns, donors = donor_pairs(edit, layer, self.donor)
            split_units(trainer.model, layer, donors, newborns, self.noise, self.generator)


class MomentTransplant(Hook):
    """At birth the newborns' optimizer state (momentum buffer; Adam's moments) is copied from their donors: every
    slice of the unit, its incoming weights, bias and outgoing column."""

    def __init__(self, cfg: RunConfig):
        self.donor = cfg.grow.donor

    def on_edit(self, trainer, edit: Edit) -> None:
        for layer in edit.births():
            newborns, donors = donor_pairs(edit, layer, self.donor)
            copy_state(trainer.optimizer, unit_slices(trainer.model, layer), donors, newborns)


class TwoSpeed(Hook):
    """For the `two_speed_steps` optimizer steps after each birth, the update of that birth's newborn slices
    (incoming rows and bias, outgoing columns) is amplified: w <- w_old + r (w_new - w_old), whatever the
    optimizer. Each birth opens its own window for its own newborns; an entry in the slices of two windows (or
    of a newborn row and a newborn column) is amplified once."""

    def __init__(self, cfg: RunConfig):
        self.factor, self.steps = cfg.grow.two_speed_factor, cfg.grow.two_speed_steps
        self.windows: list[dict] = []  # {"units": {layer: indices}, "left": steps}
        self.amplified: dict[str, torch.Tensor] = {}  # parameter name -> entries amplified now (bool)
        self.old: dict[str, torch.Tensor] | None = None  # parameters before the current step

    def on_edit(self, trainer, edit: Edit) -> None:
        births = edit.births()
        if births:
            self.windows.append({"units": births, "left": self.steps})
            self.amplified = self.entries(trainer)

    def entries(self, trainer) -> dict[str, torch.Tensor]:
        names = {param: name for name, param in trainer.model.named_parameters()}
        masks: dict[str, torch.Tensor] = {}
        for window in self.windows:
            for layer, units in window["units"].items():
                for piece in unit_slices(trainer.model, layer):
                    name = names[piece.param]
                    mask = masks.setdefault(name, torch.zeros_like(piece.param, dtype=torch.bool))
                    piece.put(mask, units, torch.ones_like(piece.get(mask, units)))
        return masks

    def before_step(self, trainer) -> None:
        if self.amplified:
            params = dict(trainer.model.named_parameters())
            self.old = {name: params[name].detach().clone() for name in self.amplified}

    @torch.no_grad()
    def after_step(self, trainer) -> None:
        if not self.amplified:
            return
        params = dict(trainer.model.named_parameters())
        for name, mask in self.amplified.items():
            old, param = self.old[name], params[name]
            param.copy_(torch.where(mask, old + self.factor * (param - old), param))
        self.old = None
        for window in self.windows:
            window["left"] -= 1
        if any(window["left"] <= 0 for window in self.windows):
            self.windows = [window for window in self.windows if window["left"] > 0]
            self.amplified = self.entries(trainer)
