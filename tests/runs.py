"""Run configs for the tests: config.yaml's defaults (the one place they are written) with a test's fields on top."""

from pathlib import Path

import torch
import torch.nn.functional as F
import yaml

from plasticity.config import default_run, load_config
from plasticity.hooks import Hook
from plasticity.run import RunConfig
from plasticity.train import Tensors, Trainer, init_model

ROOT = Path(__file__).resolve().parents[1]
CONFIG = load_config(yaml.safe_load((ROOT / "config.yaml").read_text()))


def make_run(**fields) -> RunConfig:
    return default_run(CONFIG, **fields)


def run_config(**overrides) -> RunConfig:
    """A small dense run on the synthetic dataset, with `overrides`."""
    values = dict(setting="test", method="dense", c=100, seed=1, dataset="synthetic", hidden=(32, 32), cycles=2,
                  epochs_per_cycle=1, lr=0.05)
    values.update(overrides)
    return make_run(**values)


def trainer_for(cfg: RunConfig, dataset, hooks: list[Hook]) -> Trainer:
    data = Tensors.load(cfg, dataset, torch.device("cpu"))
    return Trainer(cfg, data, init_model(cfg, data), hooks, phase="cycle")


def batch(trainer: Trainer, n: int = 64):
    return trainer.data.train_x[:n], trainer.data.train_y[:n]


def one_step(trainer: Trainer, hooks: bool) -> None:
    """One optimizer step on a fixed batch, the loop's way (hooks around the step) or plainly."""
    x, y = batch(trainer)
    trainer.optimizer.zero_grad()
    F.cross_entropy(trainer.model(x), y).backward()
    if hooks:
        trainer.call("before_step")
    trainer.optimizer.step()
    if hooks:
        trainer.call("after_step")
