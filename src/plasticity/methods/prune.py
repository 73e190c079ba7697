"""Prune: iterative magnitude pruning of units with rewind to the run's initial weights."""

from __future__ import annotations

import torch

from plasticity.hooks import Edit, Hook
from plasticity.masks import edit_count, top_units
from plasticity.methods import layer_targets
from plasticity.models import MaskedNet
from plasticity.streams import seeded_generator


def lowest_magnitude_units(layer, n: int, generator: torch.Generator) -> torch.Tensor:
    """The n active units with the smallest mean |incoming weight|."""
    active = torch.nonzero(layer.mask == 1).flatten().cpu()
    return top_units(-layer.incoming_magnitude().cpu(), active, n, generator)


def magnitude_masks(model: MaskedNet, targets: dict[str, int], generator: torch.Generator) -> dict[str, torch.Tensor]:
    """One-shot magnitude pruning of every masked layer down to its target (the Dense ticket)."""
    masks = {}
    for name, layer in model.hidden.items():
        mask = layer.mask.detach().clone()
        mask[lowest_magnitude_units(layer, int(mask.sum()) - targets[name], generator)] = 0.0
        masks[name] = mask
    return masks


class Prune(Hook):
    def setup(self, trainer) -> None:
        self.targets = layer_targets(trainer.model, trainer.cfg)
        self.generator = seeded_generator(trainer.cfg.seed, "edits")

    def on_task_start(self, trainer, task: int) -> None:
        cfg = trainer.cfg
        event = cfg.edit_index(task)
        if event is None:
            return
        masks = {}
        for name, layer in trainer.model.hidden.items():
            before = int(layer.mask.sum())
            n = edit_count(before - self.targets[name], event, cfg.edit_event_count, before)
            masks[name] = layer.mask.detach().clone()
            masks[name][lowest_magnitude_units(layer, n, self.generator)] = 0.0
        trainer.apply_edit(Edit("prune", task, masks, self.targets))
        trainer.rewind(cfg.prune.rewind)
        if cfg.prune.reset_optimizer:
            trainer.reset_optimizer()
