"""THE training loop. Written once; methods and probes plug into it through hooks."""

from __future__ import annotations

import copy
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

from plasticity.data import load_dataset
from plasticity.io import atomic_path, atomic_write_csv
from plasticity.methods import Method, layer_targets, make_method, rewinds
from plasticity.methods.regularizers import make_regularizer
from plasticity.methods.prune import magnitude_masks
from plasticity.models import MaskedNet, build_model
from plasticity.probes import PROBE_COLUMNS, NewbornProbe
from plasticity.run import RunConfig
from plasticity.streams import Stream, seed_for, seeded_generator, stratified_subset, validation_split

EVAL_CHUNK = 4096


@dataclass
class Tensors:
    """A dataset on the run's device, scaled to [0, 1] and normalised per channel with train statistics.

    With `val_fraction` > 0 a fixed class-balanced share of the training data is held out as the
    validation set (never trained on; hyperparameters are selected on it, not on the test set).
    """

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    classes: int

    @classmethod
    def load(cls, cfg: RunConfig, path: str | Path, device: torch.device) -> Tensors:
        raw = load_dataset(path)
        subset = stratified_subset(raw["train_y"], cfg.train_subset, "train-subset")
        train, val = (subset[positions] for positions in validation_split(raw["train_y"][subset], cfg.val_fraction))
        test = stratified_subset(raw["test_y"], cfg.test_subset, "test-subset")
        # In place: TinyImageNet's training images are 4.9 GB as float32, and a second copy would double that.
        train_x = raw["train_x"][train].to(device, torch.float32).div_(255)
        mean = train_x.mean(dim=(0, 2, 3), keepdim=True)
        std = train_x.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)

        def normalised(x: torch.Tensor) -> torch.Tensor:
            return x.to(device, torch.float32).div_(255).sub_(mean).div_(std)

        return cls(train_x=train_x.sub_(mean).div_(std), train_y=raw["train_y"][train].to(device),
                   test_x=normalised(raw["test_x"][test]), test_y=raw["test_y"][test].to(device),
                   val_x=normalised(raw["train_x"][val]), val_y=raw["train_y"][val].to(device),
                   classes=int(raw["classes"]))

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.train_x.shape[1:])


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("config asks for device 'cuda' but torch sees no CUDA device; set device: cpu or auto")
    return torch.device(name)


def init_model(cfg: RunConfig, data: Tensors, purpose: str = "init") -> MaskedNet:
    """The model's initialisation (build_model), drawn from the run's seed: every method at a seed starts from
    the same weights."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed_for(cfg.seed, purpose))
        model = build_model(cfg.model, data.input_shape, cfg.hidden, data.classes)
    return model.to(data.train_x.device)


def restarts_each_cycle(cfg: RunConfig, phase: str) -> bool:
    """Whether the LR schedule starts again with every cycle: always with lr_restart "cycle"; with "rewind",
    in the runs of a method that rewinds its weights at every boundary (the Lottery-Ticket convention of
    retraining each round with the full schedule), and in their tickets with ticket_schedule "source"."""
    if cfg.lr_restart == "cycle":
        return True
    return cfg.lr_restart == "rewind" and rewinds(cfg) and (phase == "cycle" or cfg.ticket_schedule == "source")


def learning_rate(cfg: RunConfig, epoch: int, restart_each_cycle: bool) -> float:
    """The LR of a 0-based epoch. Without restarts the schedule runs on the global epoch counter, across
    edits and rewinds; with them, on the epoch within the cycle. Cosine reaches 0 after lr_horizon_epochs
    (0: the segment's length, the run or the cycle) and stays there."""
    if restart_each_cycle:
        position, length = epoch % cfg.epochs_per_cycle, cfg.epochs_per_cycle
    else:
        position, length = epoch, cfg.total_epochs
    if cfg.lr_schedule == "cosine":
        horizon = cfg.lr_horizon_epochs or length
        return cfg.lr * 0.5 * (1 + math.cos(math.pi * min(position, horizon) / horizon))
    if cfg.lr_schedule == "step":
        return cfg.lr * cfg.lr_gamma ** sum(position >= milestone for milestone in cfg.lr_milestones)
    return cfg.lr


class Trainer:
    """Trains one model over the run's stream for cycles x epochs_per_cycle epochs, calling the hooks of its
    unit-edit method and of its weight regulariser (both plasticity.methods.Method plug-ins), in that order."""

    def __init__(self, cfg: RunConfig, data: Tensors, model: MaskedNet, method: Method, phase: str,
                 probes: list | None = None, regularizer: Method | None = None):
        self.cfg = cfg
        self.data = data
        self.model = model
        self.method = method
        self.regularizer = regularizer or Method()
        self.phase = phase
        self.probes = probes or []
        self.stream = Stream(cfg, data.train_y.cpu(), data.classes)
        self.init_state = copy.deepcopy(model.state_dict())
        self.optimizer = self.new_optimizer()
        self.epoch = 0
        self.epoch_rows: list[dict] = []
        self.event_rows: list[dict] = []
        self.norm_rows: list[dict] = []

    @property
    def plugins(self) -> tuple[Method, Method]:
        return self.method, self.regularizer

    def new_optimizer(self) -> torch.optim.Optimizer:
        if self.cfg.optimizer == "adam":
            return torch.optim.Adam(self.model.parameters(), lr=self.cfg.lr, weight_decay=self.cfg.weight_decay)
        return torch.optim.SGD(self.model.parameters(), lr=self.cfg.lr, momentum=self.cfg.momentum,
                               weight_decay=self.cfg.weight_decay)

    def reset_optimizer(self) -> None:
        self.optimizer = self.new_optimizer()

    def rewind(self, scope: str) -> None:
        """Put weights back to their initial values; masks are kept. scope: all | hidden | none."""
        if scope == "none":
            return
        keep = ("hidden.",) if scope == "hidden" else ("",)
        state = {k: v for k, v in self.init_state.items() if k.startswith(keep) and not k.endswith(".mask")}
        self.model.load_state_dict(state, strict=False)

    def lr_at(self, epoch: int) -> float:
        return learning_rate(self.cfg, epoch, restarts_each_cycle(self.cfg, self.phase))

    def sample_batch(self, cycle: int, size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """A random mini-batch of the training data of cycle `cycle`."""
        candidates = self.stream.task_indices(cycle)
        picks = candidates[torch.randperm(len(candidates), generator=generator)[:size]].to(self.data.train_x.device)
        return self.data.train_x[picks], self.data.train_y[picks]

    @torch.no_grad()
    def accuracy(self, x: torch.Tensor, y: torch.Tensor, cycle: int) -> float:
        """Accuracy on the examples of (x, y) of the classes seen so far (one shared head); NaN for none."""
        self.model.eval()
        seen = torch.tensor(self.stream.seen_classes(cycle), device=y.device)
        indices = torch.nonzero(torch.isin(y, seen)).flatten()
        correct = torch.zeros((), device=indices.device)
        for chunk in indices.split(EVAL_CHUNK):
            correct += (self.model(x[chunk]).argmax(dim=1) == y[chunk]).sum()
        self.model.train()
        return correct.item() / len(indices) if len(indices) else math.nan

    def test_accuracy(self, cycle: int) -> float:
        return self.accuracy(self.data.test_x, self.data.test_y, cycle)

    def train_epoch(self, cycle: int) -> float:
        """One epoch; returns the mean cross-entropy (without the regulariser's penalty)."""
        lr = self.lr_at(self.epoch)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        if self.epoch > 0 and lr < self.lr_at(self.epoch - 1):
            for plugin in self.plugins:
                plugin.on_lr_decay(self)
        device = self.data.train_x.device
        total_loss = torch.zeros((), device=device)
        batches = self.stream.epoch_batches(cycle)
        for batch in batches:
            batch = batch.to(device)
            loss = F.cross_entropy(self.model(self.data.train_x[batch]), self.data.train_y[batch])
            self.optimizer.zero_grad(set_to_none=True)
            (loss + sum(plugin.penalty(self) for plugin in self.plugins)).backward()
            self.optimizer.step()
            for plugin in self.plugins:
                plugin.after_step(self)
            total_loss += loss.detach()
        return total_loss.item() / len(batches)

    def record_events(self, event: int, events: list[dict]) -> None:
        """`event` is the boundary index: 0 before training, b between cycles b and b+1."""
        for row in events:
            self.event_rows.append({**self.identity(), "event": event, "epoch": self.epoch, **row})

    def identity(self) -> dict:
        cfg = self.cfg
        return {"setting": cfg.setting, "method": cfg.method, "c": cfg.c, "seed": cfg.seed,
                "phase": self.phase}

    def run(self, checkpoint: Path | None = None) -> None:
        """Train every epoch of every cycle. With `checkpoint`, the whole state is saved there after each
        epoch, and a run that finds a checkpoint of the same config continues after its last epoch."""
        if not self.resume(checkpoint):
            for plugin in self.plugins:
                self.record_events(0, plugin.setup(self))
            self.record_norms()
        for epoch in range(self.epoch, self.cfg.total_epochs):
            cycle, epoch_in_cycle = divmod(epoch, self.cfg.epochs_per_cycle)
            if cycle > 0 and epoch_in_cycle == 0:
                self.edit(cycle)
            cycle_end = epoch_in_cycle == self.cfg.epochs_per_cycle - 1
            self.run_epoch(cycle, cycle_end)
            if cycle_end:
                self.stream.end_task(cycle)
            if checkpoint is not None:
                self.save_checkpoint(checkpoint)
        for probe in self.probes:
            probe.finish(self)

    # Everything a resumed run needs besides the model and optimizer tensors: the method, stream and
    # probes are pickled whole, random generators included, so a resumed run repeats the same draws.
    CHECKPOINT_FIELDS = ("epoch", "epoch_rows", "event_rows", "norm_rows", "init_state", "method", "regularizer",
                         "stream", "probes")

    def save_checkpoint(self, path: Path) -> None:
        state = {name: getattr(self, name) for name in self.CHECKPOINT_FIELDS}
        state.update(config=self.cfg.to_dict(), model=self.model.state_dict(),
                     optimizer=self.optimizer.state_dict())
        with atomic_path(path) as tmp:
            torch.save(state, tmp)

    def resume(self, path: Path | None) -> bool:
        """Load the checkpoint at `path` if there is a usable one; say what happened on stderr."""
        if path is None or not path.exists():
            return False
        try:
            # Our own pickle (method, stream and probe objects), written by save_checkpoint.
            state = torch.load(path, map_location=self.data.train_x.device, weights_only=False)
        except Exception as error:  # a damaged file costs a restart, never a wrong result
            print(f"checkpoint {path} is unreadable ({error}); starting from scratch", file=sys.stderr)
            return False
        if state.get("config") != self.cfg.to_dict():
            print(f"checkpoint {path} belongs to another run config; starting from scratch", file=sys.stderr)
            return False
        for name in self.CHECKPOINT_FIELDS:
            setattr(self, name, state[name])
        self.model.load_state_dict(state["model"])
        self.optimizer = self.new_optimizer()
        self.optimizer.load_state_dict(state["optimizer"])
        print(f"resumed from {path} after epoch {self.epoch}/{self.cfg.total_epochs}", file=sys.stderr, flush=True)
        return True

    def edit(self, cycle: int) -> None:
        """The method's edit at the boundary before cycle `cycle`, with the probes looking on."""
        for probe in self.probes:
            probe.before_edit(self, cycle)
        for plugin in self.plugins:
            self.record_events(cycle, plugin.on_cycle_boundary(self, cycle))
        for probe in self.probes:
            probe.after_edit(self, cycle)

    def run_epoch(self, cycle: int, cycle_end: bool) -> None:
        """Train one epoch, evaluate, record its row and print one progress line."""
        cfg = self.cfg
        started = time.perf_counter()
        lr = self.lr_at(self.epoch)
        loss = self.train_epoch(cycle)
        self.epoch += 1
        accuracy = self.test_accuracy(cycle)
        units = self.model.active_units()
        self.epoch_rows.append({
            **self.identity(), "epoch": self.epoch, "cycle": cycle + 1,
            "task": cycle + 1 if cfg.stream == "split" else 1, "test_acc": accuracy,
            "val_acc": self.accuracy(self.data.val_x, self.data.val_y, cycle), "train_loss": loss,
            "lr": lr, "active_units": units, "cycle_end": cycle_end, "device": self.data.train_x.device.type,
        })
        self.record_norms()
        print(f"[{cfg.setting}/{cfg.method}/c{cfg.c}/seed{cfg.seed} {self.phase}] epoch {self.epoch}/"
              f"{cfg.total_epochs} cycle {cycle + 1}/{cfg.cycles} acc {accuracy:.4f} loss {loss:.4f} "
              f"units {units} ({time.perf_counter() - started:.1f}s)", file=sys.stderr, flush=True)
        for probe in self.probes:
            probe.after_epoch(self, cycle)

    @torch.no_grad()
    def record_norms(self) -> None:
        """With cfg.record_norms, one row per weight layer: its Frobenius norm now (epoch 0: initialisation)."""
        if self.cfg.record_norms:
            for layer in self.model.weight_layers():
                self.norm_rows.append({**self.identity(), "epoch": self.epoch, "layer": layer.name,
                                       "group": layer.group, "weight_norm": layer.module.weight.norm().item()})


def prepare(cfg: RunConfig, dataset_path: str | Path, threads: int) -> Tensors:
    torch.set_num_threads(threads)
    return Tensors.load(cfg, dataset_path, resolve_device(cfg.device))


def train_run(cfg: RunConfig, dataset_path: str | Path, out_dir: str | Path, threads: int = 1,
              keep_checkpoint: bool = False) -> None:
    """Train one (setting, method, c, seed) run; write epochs.csv, events.csv, probe.csv, norms.csv and state.pt
    to out_dir.

    probe.csv holds the newborn diagnostics when cfg.probe.enabled, norms.csv the per-layer weight norms when
    cfg.record_norms, else only their headers. The run checkpoints to out_dir/checkpoint.pt after every
    epoch and resumes from it when rerun.
    """
    data = prepare(cfg, dataset_path, threads)
    model = init_model(cfg, data)
    probes = [NewbornProbe(cfg.probe.batch_size, cfg.probe.tau)] if cfg.probe.enabled else []
    trainer = Trainer(cfg, data, model, make_method(cfg), phase="cycle", probes=probes,
                      regularizer=make_regularizer(cfg))
    out_dir = Path(out_dir)
    checkpoint = out_dir / CHECKPOINT
    trainer.run(checkpoint)
    probe_rows = [row for probe in trainer.probes for row in probe.rows]
    atomic_write_csv(pd.DataFrame(probe_rows, columns=PROBE_COLUMNS), out_dir / "probe.csv")
    atomic_write_csv(pd.DataFrame(trainer.event_rows, columns=EVENT_COLUMNS), out_dir / "events.csv")
    atomic_write_csv(pd.DataFrame(trainer.norm_rows, columns=NORM_COLUMNS), out_dir / "norms.csv")
    with atomic_path(out_dir / "state.pt") as tmp:
        torch.save({"init_state": trainer.init_state, "final_state": model.state_dict(),
                    "final_masks": model.masks()}, tmp)
    atomic_write_csv(pd.DataFrame(trainer.epoch_rows), out_dir / "epochs.csv")
    if not keep_checkpoint:
        checkpoint.unlink()


CHECKPOINT = "checkpoint.pt"

EVENT_COLUMNS = ["setting", "method", "c", "seed", "phase", "event", "epoch", "kind", "layer",
                 "n_edited", "active_before", "active_after", "target"]
NORM_COLUMNS = ["setting", "method", "c", "seed", "phase", "epoch", "layer", "group", "weight_norm"]


def ticket_masks(cfg: RunConfig, trained: MaskedNet, source_masks: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The final mask of the source run; for Dense, its one-shot magnitude pruning to the targets."""
    targets = layer_targets(trained, cfg)
    if cfg.method == "dense":
        source_masks = magnitude_masks(trained, targets, seeded_generator(cfg.seed, "edits"))
    counts = {name: int(mask.sum()) for name, mask in source_masks.items()}
    if counts != targets:
        raise ValueError(f"source run's final mask has units {counts}, the ticket at c={cfg.c} needs {targets}")
    return source_masks


def ticket_model(cfg: RunConfig, data: Tensors, source: dict) -> MaskedNet:
    """The source run's final mask on the run's original (or, by config, a fresh) initialisation."""
    model = init_model(cfg, data)
    model.load_state_dict(source["final_state"])
    masks = ticket_masks(cfg, model, source["final_masks"])
    if cfg.ticket_init == "original":
        model.load_state_dict(source["init_state"])
    else:
        model = init_model(cfg, data, purpose="fresh-init")
    model.set_masks(masks)
    return model


def retrain_ticket(cfg: RunConfig, dataset_path: str | Path, source_state_path: str | Path,
                   out_dir: str | Path, threads: int = 1, keep_checkpoint: bool = False) -> None:
    """Freeze the source run's final mask, reset the weights and retrain for the full budget (resumable)."""
    data = prepare(cfg, dataset_path, threads)
    source = torch.load(source_state_path, map_location=data.train_x.device, weights_only=True)
    trainer = Trainer(cfg, data, ticket_model(cfg, data, source), Method(), phase="ticket")
    checkpoint = Path(out_dir) / CHECKPOINT
    trainer.run(checkpoint)
    atomic_write_csv(pd.DataFrame(trainer.epoch_rows), Path(out_dir) / "epochs.csv")
    if not keep_checkpoint:
        checkpoint.unlink()
