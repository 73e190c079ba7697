"""Newborn diagnostics (PROTOCOL.md section 4): are newborn units forward-active but backward-starved?

On a fixed mini-batch, per unit j of a masked layer: act(j) = fraction of samples whose (unmasked)
post-activation exceeds tau, grad(j) = mean |dL/dz_j| over the batch. An edit defines two cohorts per
layer: a birth (units added) compares newborns with incumbents at Post (right after the edit), after
every epoch of the following segment (the post-birth curve, by newborn age in epochs) and at End (the
end of that segment); a prune (units removed) compares pruned with kept units at Exit (the end of the
cycle, where prune decides, while both cohorts are still active). Parity R = mean(A) / (mean(B) + eps).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from plasticity.hooks import Edit, Hook
from plasticity.models import MaskedNet
from plasticity.run import RunConfig
from plasticity.streams import seeded_generator

EPS = 1e-8

PROBE_COLUMNS = ["setting", "method", "c", "seed", "phase", "event", "snapshot", "epoch", "age", "layer",
                 "cohort_a", "cohort_b", "n_a", "n_b", "act_a", "act_b", "grad_a", "grad_b",
                 "act_parity", "grad_parity", "log_act_parity", "log_grad_parity"]


def unit_signals(model: MaskedNet, x: torch.Tensor, y: torch.Tensor, tau: float) -> dict[str, tuple]:
    """Per masked layer: (act, grad), one entry per unit, on this batch."""
    record: dict = {}
    loss = F.cross_entropy(model(x, record), y)
    grads = torch.autograd.grad(loss, [z for z, _ in record.values()])
    return {name: ((a > tau).float().mean(dim=0).detach(), grad.abs().mean(dim=0))
            for (name, (_, a)), grad in zip(record.items(), grads)}


def parity(a: float, b: float) -> tuple[float, float]:
    """R = a / (b + eps) and log R (floored at log eps, so a silent cohort gives a finite value)."""
    ratio = a / (b + EPS)
    return ratio, math.log(max(ratio, EPS))


def cohort_row(signals: dict, layer: str, cohort_a: torch.Tensor, cohort_b: torch.Tensor) -> dict:
    """Mean act and grad of two unit cohorts (boolean masks over the layer's units) and their parities."""
    act, grad = signals[layer]
    means = {"act_a": act[cohort_a].mean().item(), "act_b": act[cohort_b].mean().item(),
             "grad_a": grad[cohort_a].mean().item(), "grad_b": grad[cohort_b].mean().item()}
    act_parity, log_act_parity = parity(means["act_a"], means["act_b"])
    grad_parity, log_grad_parity = parity(means["grad_a"], means["grad_b"])
    return {"n_a": int(cohort_a.sum()), "n_b": int(cohort_b.sum()), **means,
            "act_parity": act_parity, "grad_parity": grad_parity,
            "log_act_parity": log_act_parity, "log_grad_parity": log_grad_parity}


class NewbornProbe(Hook):
    """Cohort parities around every edit of a run (table "probe"). It learns which units were born or removed
    from the edit itself (Trainer.apply_edit); the Exit snapshot is taken at the end of the task before it."""

    def __init__(self, cfg: RunConfig):
        self.batch_size = cfg.probe.batch_size
        self.tau = cfg.probe.tau
        self.batches: dict[tuple, tuple] = {}
        self.exit_signals: dict | None = None  # signals at the end of the latest task, where prune decides
        self.birth: dict | None = None  # the latest birth event, followed until the end of its segment

    def fixed_batch(self, trainer, task: int) -> tuple[torch.Tensor, torch.Tensor]:
        """One mini-batch per task, drawn once: an i.i.d. stream uses the same batch for the whole run."""
        classes = tuple(trainer.stream.tasks[task])
        if classes not in self.batches:
            generator = seeded_generator(trainer.cfg.seed, f"probe-batch:{classes}")
            self.batches[classes] = trainer.sample_batch(task, self.batch_size, generator)
        return self.batches[classes]

    def signals(self, trainer, task: int) -> dict:
        return unit_signals(trainer.model, *self.fixed_batch(trainer, task), self.tau)

    def record(self, trainer, event: int, snapshot: str, age: int, signals: dict, cohorts: dict) -> None:
        for layer, (names, cohort_a, cohort_b) in cohorts.items():
            trainer.tables.append("probe", {
                **trainer.identity(), "event": event, "snapshot": snapshot, "epoch": trainer.epoch, "age": age,
                "layer": layer, "cohort_a": names[0], "cohort_b": names[1],
                **cohort_row(signals, layer, cohort_a, cohort_b)})

    def on_task_end(self, trainer, task: int) -> None:
        self.exit_signals = self.signals(trainer, task)
        if self.birth is not None:
            self.record(trainer, self.birth["event"], "end", trainer.epoch - self.birth["epoch"], self.exit_signals,
                        self.birth["cohorts"])
            self.birth = None

    def on_edit(self, trainer, edit: Edit) -> None:
        if edit.event == 0:  # an edit before training (a seed) has no cohorts to compare
            return
        births, prunes = {}, {}
        for name in edit.masks:
            before, added, removed = edit.before[name] > 0, edit.added(name), edit.removed(name)
            if added.any():
                births[name] = (("newborn", "incumbent"), added, before & ~removed)
            if removed.any():
                prunes[name] = (("pruned", "kept"), removed, before & ~removed)
        if prunes:
            self.record(trainer, edit.event, "exit", 0, self.exit_signals, prunes)
        if births:
            self.birth = {"event": edit.event, "epoch": trainer.epoch, "cohorts": births}
            self.record(trainer, edit.event, "post", 0, self.signals(trainer, trainer.task), births)

    def on_epoch_end(self, trainer, row: dict) -> None:
        if self.birth is not None:
            self.record(trainer, self.birth["event"], "epoch", trainer.epoch - self.birth["epoch"],
                        self.signals(trainer, trainer.task), self.birth["cohorts"])
