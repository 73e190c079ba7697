"""Hooks that measure: epoch metrics that add columns to the epoch rows, and recorders with tables of their own."""

from __future__ import annotations

import torch

from plasticity.hooks import Hook


class OnlineAccuracy(Hook):
    """Column `online_acc`: the accuracy of each training mini-batch's predictions before the update on it
    (the forward pass of the step itself), averaged over the epoch's samples."""

    def __init__(self, cfg=None):
        self.correct, self.seen = 0, 0

    def before_step(self, trainer) -> None:
        logits, y = trainer.step_output
        self.correct += int((logits.detach().argmax(dim=1) == y).sum())
        self.seen += len(y)

    def on_epoch_end(self, trainer, row: dict) -> None:
        row["online_acc"] = self.correct / self.seen if self.seen else float("nan")
        self.correct, self.seen = 0, 0


class NormRecorder(Hook):
    """Table "norms": the Frobenius norm of every weight layer at initialisation (epoch 0) and after every epoch."""

    @torch.no_grad()
    def record(self, trainer) -> None:
        for layer in trainer.model.weight_layers():
            trainer.tables.append("norms", {**trainer.identity(), "epoch": trainer.epoch, "layer": layer.name,
                                            "group": layer.group, "weight_norm": layer.module.weight.norm().item()})

    def setup(self, trainer) -> None:
        self.record(trainer)

    def on_epoch_end(self, trainer, row: dict) -> None:
        self.record(trainer)
