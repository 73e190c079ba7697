"""Grow: start from a random 10% seed mask and activate the best inactive units at each task boundary.

Newborns enter with the weights they were initialised with (masked units get no gradient, so those
are untouched) and the optimizer state is left as it is; the interventions of plasticity.methods.interventions
change that at birth, from the scores the edit carries.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from plasticity.hooks import Edit, Hook
from plasticity.masks import edit_count, random_subset_mask, round_half_up, top_units
from plasticity.methods import layer_targets
from plasticity.models import MaskedNet
from plasticity.streams import seeded_generator


@torch.no_grad()
def activation_scores(model: MaskedNet, x: torch.Tensor, y: torch.Tensor, tau: float) -> dict[str, torch.Tensor]:
    """Per unit: the fraction of samples whose unmasked post-activation exceeds tau."""
    record: dict = {}
    model(x, record)
    return {name: (a > tau).float().mean(dim=0) for name, (_, a) in record.items()}


def gradient_scores(model: MaskedNet, x: torch.Tensor, y: torch.Tensor, tau: float) -> dict[str, torch.Tensor]:
    """Per unit: mean |dL/dz| on the batch with the layer's inactive units temporarily unmasked."""
    scores = {}
    for name, layer in model.hidden.items():
        saved = layer.mask.clone()
        layer.mask.fill_(1.0)
        record: dict = {}
        loss = F.cross_entropy(model(x, record), y)
        (grad,) = torch.autograd.grad(loss, record[name][0])
        scores[name] = grad.abs().mean(dim=0)
        layer.mask.copy_(saved)
    return scores


def gradmax_scores(model: MaskedNet, x: torch.Tensor, y: torch.Tensor, tau: float) -> dict[str, torch.Tensor]:
    """GradMax-style, per unit: the norm of the gradient its outgoing weights would receive on the batch,
    ||dL/dW_next[:, j]||, with the layer's inactive units temporarily unmasked. The "gradient" selector reads the
    signal that reaches a unit's input (dL/dz_j); this one the signal its output connections would learn from."""
    scores = {}
    for name, layer in model.hidden.items():
        saved = layer.mask.clone()
        layer.mask.fill_(1.0)
        (grad,) = torch.autograd.grad(F.cross_entropy(model(x), y), model.consumer(name))
        scores[name] = grad.norm(dim=0)
        layer.mask.copy_(saved)
    return scores


SELECTORS = {"activation": activation_scores, "gradient": gradient_scores, "gradmax": gradmax_scores}


class Grow(Hook):
    def setup(self, trainer) -> None:
        cfg = trainer.cfg
        self.targets = layer_targets(trainer.model, cfg)
        self.generator = seeded_generator(cfg.seed, "edits")
        masks = {}
        for name, layer in trainer.model.hidden.items():
            seed_units = min(self.targets[name], max(1, round_half_up(cfg.grow.seed_fraction * layer.units)))
            masks[name] = random_subset_mask(layer.units, seed_units, self.generator)
        trainer.apply_edit(Edit("seed", 0, masks, self.targets))

    def on_task_start(self, trainer, task: int) -> None:
        cfg = trainer.cfg
        event = cfg.edit_index(task)
        if event is None:
            return
        x, y = trainer.sample_batch(task, cfg.grow.score_batch_size, self.generator)
        scores = {name: score.detach().cpu()
                  for name, score in SELECTORS[cfg.grow.selector](trainer.model, x, y, cfg.grow.tau).items()}
        masks = {}
        for name, layer in trainer.model.hidden.items():
            inactive = torch.nonzero(layer.mask == 0).flatten()
            before = layer.units - len(inactive)
            n = edit_count(self.targets[name] - before, event, cfg.edit_event_count, len(inactive))
            masks[name] = layer.mask.detach().clone()
            masks[name][top_units(scores[name], inactive.cpu(), n, self.generator)] = 1.0
        trainer.apply_edit(Edit("grow", task, masks, self.targets, scores))
