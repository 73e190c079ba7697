"""Hooks that measure: epoch metrics that add columns to the epoch rows, and recorders with tables of their own."""

from __future__ import annotations

import math

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


TASK_COLUMNS = ["setting", "method", "c", "seed", "phase", "task", "task_classes", "steps", "samples", "correct",
                "online_acc", "early_steps", "early_samples", "early_correct", "early_acc", "test_acc"]


class TaskOnlineAccuracy(Hook):
    """Table "tasks", one row per task: the online accuracy of the task's mini-batches (each batch's predictions
    before the update on it), over the whole task and over its first `online.early_fraction` of steps (at least
    one: Early-task TAA), and the test accuracy measured at the task's end. Counts are kept beside the
    accuracies, so a stream's average (TAOA) is the pooled correct / samples over its tasks."""

    def __init__(self, cfg):
        self.early_fraction = cfg.online.early_fraction
        self.batches: list[tuple[int, int]] = []  # (correct, samples) of each step of the current task

    def on_task_start(self, trainer, task: int) -> None:
        self.batches = []

    def before_step(self, trainer) -> None:
        logits, y = trainer.step_output
        self.batches.append((int((logits.detach().argmax(dim=1) == y).sum()), len(y)))

    def on_task_end(self, trainer, task: int) -> None:
        early = self.batches[: max(1, math.ceil(self.early_fraction * len(self.batches)))]
        correct, samples = (sum(column) for column in zip(*self.batches))
        early_correct, early_samples = (sum(column) for column in zip(*early))
        trainer.tables.append("tasks", {
            **trainer.identity(), "task": task + 1, "task_classes": len(trainer.stream.tasks[task]),
            "steps": len(self.batches), "samples": samples, "correct": correct, "online_acc": correct / samples,
            "early_steps": len(early), "early_samples": early_samples, "early_correct": early_correct,
            "early_acc": early_correct / early_samples, "test_acc": trainer.tables.rows["epochs"][-1]["test_acc"]})


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
