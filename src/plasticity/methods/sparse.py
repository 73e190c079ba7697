"""Connection-level methods of the GCG study (PROTOCOL.md section 8), each a hook of the one loop.

A run's `c` is its target density in percent. The growth methods (PathGrow, random and gradient growth) grow
from a sparse seed in stages during a growth phase (Trainer phase "growth": constant LR, at most
sparse.growth_epochs epochs), up to density c or, at c = 100, until the stopping rule says; the run then trains
the discovered network for its full schedule (phase "cycle", plasticity.train.train_run). IMP prunes 20% of the
remaining weights per cycle down to density c, rewinding to an early checkpoint each time; RigL and SET keep
density c (ERK layer densities) while they drop and regrow; PHEW trains its seed mask at density c.
"""

from __future__ import annotations

import copy
import math

import torch

from plasticity import connections as cx
from plasticity.hooks import Hook
from plasticity.stopping import decide
from plasticity.streams import seeded_generator
from plasticity.surgery import masked_weight_gradients


def seed_masks(model, cfg, density: float, generator: torch.Generator) -> dict[str, torch.Tensor]:
    if cfg.sparse.seed_mask == "phew":
        return cx.phew_masks(model, density, generator)
    return cx.random_masks(model, {name: density for name in cx.sparse_layers(model)}, generator)


def total_connections(model) -> int:
    return sum(cx.dense_counts(model).values())


class Growth(Hook):
    """Grows connections from a sparse seed in stages; `score` picks the stage's new connections."""

    def setup(self, trainer) -> None:
        cfg = trainer.cfg
        if cfg.c == 100 and not len(trainer.data.val_y):
            raise ValueError(f"setting {cfg.setting}: the stopping rule of {cfg.method} at c=100 reads validation "
                             "accuracy, but the setting holds out none; set val_fraction > 0")
        self.generator = seeded_generator(cfg.seed, "connections")
        cx.set_masks(trainer.model, seed_masks(trainer.model, cfg, cfg.sparse.seed_density, self.generator))
        self.stage, self.epochs_in_stage = 1, 0
        self.densities: list[float] = []
        self.val_accuracies: list[float] = []

    def stage_epochs(self, cfg) -> int:
        return cfg.sparse.stage_epochs[min(self.stage, len(cfg.sparse.stage_epochs)) - 1]

    def on_epoch_end(self, trainer, row: dict) -> None:
        cfg = trainer.cfg
        self.epochs_in_stage += 1
        row.update(stage=self.stage, stage_end=False, stop_reason="")
        if self.epochs_in_stage < self.stage_epochs(cfg):
            if trainer.epoch == trainer.total_epochs:
                row["stop_reason"] = "budget"  # the growth phase's epochs ran out inside a stage
            return
        masks = cx.current_masks(trainer.model)
        total = total_connections(trainer.model)
        present = int(sum(m.sum() for m in masks.values()))
        self.densities.append(present / total)
        self.val_accuracies.append(row["val_acc"])
        row["stage_end"] = True
        reason = self.stop_reason(cfg, present, round(cfg.c / 100 * total))
        if reason:
            row["stop_reason"] = reason
            trainer.request_stop()
            return
        if trainer.epoch == trainer.total_epochs:
            row["stop_reason"] = "budget"  # no epoch left to train what would grow now
            return
        n = min(round(self.densities[-1] * cfg.sparse.growth_factor * total), round(cfg.c / 100 * total)) - present
        added = self.draw(trainer, masks, n)
        cx.grow(trainer.model, added, cfg.sparse.grow_init, trainer.init_state)
        self.stage, self.epochs_in_stage = self.stage + 1, 0

    def stop_reason(self, cfg, present: int, target: int) -> str:
        """'target' once density c is reached (c < 100; at c = 100, 'dense'), 'fit' or 'fallback' when the
        stopping rule fires (c = 100 only), else ''."""
        if present >= target:
            return "target" if cfg.c < 100 else "dense"
        if cfg.c < 100:
            return ""
        sparse = cfg.sparse
        decision = decide(self.densities, self.val_accuracies, sparse.stop_epsilon, sparse.stop_min_stages,
                          sparse.stop_fallback_gain, sparse.stop_fallback_stages)
        return decision.reason if decision.stop else ""

    def draw(self, trainer, masks: dict, n: int) -> dict:
        raise NotImplementedError


class PathGrow(Growth):
    """New connections drawn in proportion to their path score (connections.path_scores)."""

    def draw(self, trainer, masks, n):
        return cx.draw_proportional(cx.path_scores(trainer.model, masks), cx.absent(masks), n, self.generator)


class RandomGrowth(Growth):
    """New connections drawn uniformly from the absent ones."""

    def draw(self, trainer, masks, n):
        return cx.draw_proportional({k: torch.ones_like(m) for k, m in masks.items()}, cx.absent(masks), n,
                                    self.generator)


class GradientGrowth(Growth):
    """The absent connections of largest |dL/dw| on one mini-batch (grow.score_batch_size examples)."""

    def draw(self, trainer, masks, n):
        return cx.draw_top(gradient_magnitudes(trainer, self.generator), masks, n)


def gradient_magnitudes(trainer, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """|dL/dw| of every connection, absent ones included, on a mini-batch of grow.score_batch_size examples."""
    x, y = trainer.sample_batch(trainer.task, trainer.cfg.grow.score_batch_size, generator)
    return {name: grad.abs().cpu() for name, grad in masked_weight_gradients(trainer.model, x, y).items()}


class IterativeMagnitudePruning(Hook):
    """Global magnitude pruning of `sparse.imp_fraction` of the remaining weights at every cycle boundary down to
    density c (config.run_config gives IMP the cycles that takes), each round rewound to the weights after
    `sparse.imp_rewind_epoch` epochs of the first and retrained with a fresh optimizer."""

    def setup(self, trainer) -> None:
        cx.set_masks(trainer.model, {k: torch.ones_like(m) for k, m in cx.current_masks(trainer.model).items()})
        self.target = round(trainer.cfg.c / 100 * total_connections(trainer.model))
        if trainer.cfg.sparse.imp_rewind_epoch == 0:
            self.rewind_state = copy.deepcopy(trainer.model.state_dict())

    def on_epoch_end(self, trainer, row: dict) -> None:
        if trainer.epoch == trainer.cfg.sparse.imp_rewind_epoch:
            self.rewind_state = copy.deepcopy(trainer.model.state_dict())

    def on_task_start(self, trainer, task: int) -> None:
        if task == 0:
            return
        masks = cx.current_masks(trainer.model)
        present = int(sum(m.sum() for m in masks.values()))
        n = min(round(trainer.cfg.sparse.imp_fraction * present), present - self.target)
        cx.set_masks(trainer.model, cx.magnitude_prune(trainer.model, masks, n))
        trainer.rewind("all", to=self.rewind_state)
        trainer.reset_optimizer()


class DynamicSparse(Hook):
    """RigL (regrow by |gradient|, every sparse.rigl_interval steps, a cosine-decayed fraction, until
    sparse.rigl_end of training) or SET (regrow at random, sparse.set_fraction after every epoch), at density c
    with ERK layer densities."""

    regrow = "gradient"

    def setup(self, trainer) -> None:
        cfg = trainer.cfg
        self.generator = seeded_generator(cfg.seed, "connections")
        densities = cx.erk_densities(trainer.model, cfg.c / 100)
        cx.set_masks(trainer.model, cx.random_masks(trainer.model, densities, self.generator))
        steps_per_epoch = math.ceil(len(trainer.stream.task_indices(0)) / cfg.batch_size)
        self.last_update = round(cfg.sparse.rigl_end * steps_per_epoch * trainer.total_epochs)

    def update(self, trainer, fraction: float) -> None:
        scores = gradient_magnitudes(trainer, self.generator) if self.regrow == "gradient" else None
        masks = cx.current_masks(trainer.model)
        cx.set_masks(trainer.model, cx.drop_and_regrow(trainer.model, masks, fraction, scores, self.generator))

    def after_step(self, trainer) -> None:
        sparse = trainer.cfg.sparse
        if self.regrow == "gradient" and trainer.step % sparse.rigl_interval == 0 and trainer.step < self.last_update:
            self.update(trainer, sparse.rigl_fraction / 2 * (1 + math.cos(math.pi * trainer.step / self.last_update)))

    def on_epoch_end(self, trainer, row: dict) -> None:
        if self.regrow == "random" and trainer.epoch < trainer.total_epochs:
            self.update(trainer, trainer.cfg.sparse.set_fraction)


class RigL(DynamicSparse):
    regrow = "gradient"


class SET(DynamicSparse):
    regrow = "random"


class FixedPhew(Hook):
    """A PHEW mask at density c, trained as it is (pruning at initialisation)."""

    def setup(self, trainer) -> None:
        generator = seeded_generator(trainer.cfg.seed, "connections")
        cx.set_masks(trainer.model, cx.phew_masks(trainer.model, trainer.cfg.c / 100, generator))


class TrainCost(Hook):
    """Epoch columns of a run's training cost: `density`, the share of present connections the epoch's last
    step trained with; `train_flops`, the FLOPs of the phase's training steps so far (forward + backward of the
    masked network per example, connections.step_flops, summed over every example of every step); and
    `dense_step_flops`, one example's step in the dense network."""

    def setup(self, trainer) -> None:
        self.positions = cx.layer_positions(trainer.model)
        self.sizes = cx.dense_counts(trainer.model)
        self.dense_step_flops = cx.step_flops(self.positions, self.sizes)
        self.flops = 0.0
        self.density = 1.0

    def after_step(self, trainer) -> None:
        counts = cx.present_counts(trainer.model)
        self.flops += len(trainer.step_output[1]) * cx.step_flops(self.positions, counts)
        self.density = sum(counts.values()) / sum(self.sizes.values())

    def on_epoch_end(self, trainer, row: dict) -> None:
        row.update(density=self.density, train_flops=self.flops, dense_step_flops=self.dense_step_flops)
