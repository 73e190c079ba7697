"""THE training loop. Written once; methods, regularisers, probes and metrics plug into it as hooks."""

from __future__ import annotations

import copy
import dataclasses
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from plasticity.data import load_dataset
from plasticity.hooks import GROWTH_METHODS, Edit, Hook, build_hooks
from plasticity.io import RowStore, atomic_path, atomic_write_rows
from plasticity.methods import layer_targets, rewinds
from plasticity.methods.prune import magnitude_masks
from plasticity import optim
from plasticity.models import MaskedNet, activation_factory, build_model
from plasticity.metrics_hooks import TASK_COLUMNS
from plasticity.probes import PROBE_COLUMNS
from plasticity.run import RunConfig
from plasticity.streams import Stream, head_size, seed_for, seeded_generator, stratified_subset, validation_split

# Test passes go in chunks of 256: on the CPU the quick ConvNet test pass takes 130 ms against 202 ms in chunks
# of 1,024 (benchmarks/channels_last.py).
EVAL_CHUNK = 256


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


def crop_flip(x: torch.Tensor, generator: torch.Generator, padding: int = 4) -> torch.Tensor:
    """Each image of the batch cropped at a random offset from its zero-padded copy (the standard CIFAR
    augmentation: 4 pixels) and flipped horizontally with probability 1/2; draws from `generator` on the CPU."""
    n, _, height, width = x.shape
    offsets = torch.randint(0, 2 * padding + 1, (n, 2), generator=generator).tolist()
    flips = (torch.rand(n, generator=generator) < 0.5).tolist()
    padded = F.pad(x, (padding,) * 4)
    crops = [padded[i, :, dy:dy + height, dx:dx + width] for i, (dy, dx) in enumerate(offsets)]
    return torch.stack([crop.flip(-1) if flip else crop for crop, flip in zip(crops, flips)])


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
        activation = activation_factory(cfg.activation, dataclasses.asdict(cfg.rsl))
        model = build_model(cfg.model, data.input_shape, cfg.hidden, head_size(cfg, data.classes), cfg.convnet_channels,
                            activation)
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
    """Trains one model over the run's stream for cycles x epochs_per_cycle epochs: THE loop. Everything that acts
    on training is one of its hooks (plasticity.hooks states which it calls, when, and in which order)."""

    def __init__(self, cfg: RunConfig, data: Tensors, model: MaskedNet, hooks: list[Hook], phase: str):
        self.cfg = cfg
        self.data = data
        self.model = model
        self.hooks = hooks
        self.phase = phase
        self.stream = Stream(cfg, data.train_y.cpu(), data.classes, math.prod(data.input_shape))
        # The growth phase of a connection-growth method is one task of at most sparse.growth_epochs epochs, at
        # a constant LR, and its method hook ends it (request_stop); every other phase follows the run's cycles.
        if phase == "growth":
            self.total_epochs = self.epochs_per_cycle = cfg.sparse.growth_epochs
        else:
            self.total_epochs, self.epochs_per_cycle = cfg.total_epochs, cfg.epochs_per_cycle
        self.stopped = False  # a hook asked the loop to end after the current epoch
        self.augmentation_generator = seeded_generator(cfg.seed, "augmentation")
        # A randomized activation (RSL) draws on the model's device, from the run's seed; checkpointed.
        self.activation_generator = torch.Generator(data.train_x.device).manual_seed(seed_for(cfg.seed, "activation"))
        model.set_activation_generator(self.activation_generator)
        self.init_state = copy.deepcopy(model.state_dict())
        self.optimizer = self.new_optimizer()
        self.epoch = 0
        self.task = 0
        self.step = 0  # optimizer steps so far
        self.step_output: tuple[torch.Tensor, torch.Tensor] | None = None  # (logits, labels) of the current step
        self.tables = RowStore()

    def call(self, point: str, *args) -> None:
        for hook in self.hooks:
            getattr(hook, point)(self, *args)

    def new_optimizer(self) -> optim.Optimizer:
        if self.cfg.optimizer == "adam":
            return optim.Adam(self.model.parameters(), lr=self.cfg.lr, weight_decay=self.cfg.weight_decay)
        return optim.SGD(self.model.parameters(), lr=self.cfg.lr, momentum=self.cfg.momentum,
                               weight_decay=self.cfg.weight_decay, nesterov=self.cfg.nesterov)

    def reset_optimizer(self) -> None:
        self.optimizer = self.new_optimizer()

    def rewind(self, scope: str, to: dict | None = None) -> None:
        """Put weights back to their initial values (or to the state_dict `to`, e.g. IMP's early checkpoint);
        masks are kept. scope: all | hidden | none."""
        if scope == "none":
            return
        masks = self.model.mask_names()
        state = {k: v for k, v in (self.init_state if to is None else to).items()
                 if (scope == "all" or k.startswith("hidden.")) and k not in masks}
        self.model.load_state_dict(state, strict=False)
        self.model.enforce_connection_masks()  # initial values at masked positions stay switched off

    def apply_edit(self, edit: Edit) -> None:
        """The one way masks change: set the edit's unit masks, record one events row per layer, tell every hook."""
        current = self.model.unit_masks()
        edit.masks = {name: mask.to(current[name].device) for name, mask in edit.masks.items()}
        edit.before = {name: torch.zeros_like(current[name]) if edit.kind == "seed" else current[name]
                       for name in edit.masks}
        for name, mask in edit.masks.items():
            self.model.hidden[name].mask.copy_(mask)
            self.tables.append("events", {
                **self.identity(), "event": edit.event, "epoch": self.epoch, "kind": edit.kind, "layer": name,
                "n_edited": int((edit.before[name] != mask).sum()), "active_before": int(edit.before[name].sum()),
                "active_after": int(mask.sum()), "target": edit.targets.get(name)})
        self.call("on_edit", edit)

    def lr_at(self, epoch: int) -> float:
        if self.phase == "growth":
            return self.cfg.lr
        return learning_rate(self.cfg, epoch, restarts_each_cycle(self.cfg, self.phase))

    def request_stop(self) -> None:
        """End the run after the current epoch (its hooks' finish still runs)."""
        self.stopped = True

    def sample_batch(self, cycle: int, size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """A random mini-batch of the training data of cycle `cycle`, as the stream presents it in that task."""
        candidates = self.stream.task_indices(cycle)
        picks = candidates[torch.randperm(len(candidates), generator=generator)[:size]].to(self.data.train_x.device)
        return self.stream.transform(cycle, self.data.train_x[picks], self.data.train_y[picks], picks)

    @torch.no_grad()
    def accuracy(self, x: torch.Tensor, y: torch.Tensor, cycle: int) -> float:
        """Accuracy on the examples of (x, y) of the classes seen so far (one shared head); NaN for none."""
        self.model.eval()
        seen = torch.tensor(self.stream.eval_classes(cycle), device=y.device)
        indices = torch.nonzero(torch.isin(y, seen)).flatten()
        correct = torch.zeros((), device=indices.device)
        for chunk in indices.split(EVAL_CHUNK):
            inputs, labels = self.stream.transform(cycle, x[chunk], y[chunk])
            correct += (self.model(inputs).argmax(dim=1) == labels).sum()
        self.model.train()
        return correct.item() / len(indices) if len(indices) else math.nan

    def test_accuracy(self, cycle: int) -> float:
        return self.accuracy(self.data.test_x, self.data.test_y, cycle)

    def train_epoch(self, cycle: int) -> float:
        """One epoch; returns the mean cross-entropy (without the hooks' penalties)."""
        lr = self.lr_at(self.epoch)
        for group in self.optimizer.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)  # a group may train at its own multiple of the schedule
        if self.epoch > 0 and lr != self.lr_at(self.epoch - 1):
            self.call("on_lr_change", self.lr_at(self.epoch - 1), lr)
        device = self.data.train_x.device
        total_loss = torch.zeros((), device=device)
        batches = self.stream.epoch_batches(cycle)
        for batch in batches:
            batch = batch.to(device)
            x, y = self.stream.transform(cycle, self.data.train_x[batch], self.data.train_y[batch], batch)
            if self.cfg.augmentation == "crop_flip":
                x = crop_flip(x, self.augmentation_generator)
            logits = self.model(x)
            loss = F.cross_entropy(logits, y)
            self.optimizer.zero_grad()
            (loss + sum(hook.penalty(self) for hook in self.hooks)).backward()
            self.step_output = (logits, y)
            self.call("before_step")
            self.optimizer.step()
            self.model.enforce_connection_masks()
            self.step += 1
            self.call("after_step")
            total_loss += loss.detach()
        self.step_output = None
        return total_loss.item() / len(batches)

    def identity(self) -> dict:
        cfg = self.cfg
        return {"setting": cfg.setting, "method": cfg.method, "c": cfg.c, "seed": cfg.seed,
                "phase": self.phase}

    def run(self, checkpoint: Path | None = None, checkpoint_seconds: float = 0) -> None:
        """Train every epoch of every cycle. With `checkpoint`, the whole state is saved there after an epoch
        once `checkpoint_seconds` have passed since the last save (0: after every epoch) and after the last, and a
        run that finds a checkpoint of the same config continues after its last saved epoch."""
        last_save = time.monotonic()
        if not self.resume(checkpoint):
            self.tables = RowStore()
            if checkpoint is not None:
                RowStore.clear(checkpoint)
            self.call("setup")
        for epoch in range(self.epoch, self.total_epochs):
            if self.stopped:
                break
            self.task, epoch_in_task = divmod(epoch, self.epochs_per_cycle)
            if epoch_in_task == 0:
                self.call("on_task_start", self.task)
            task_end = epoch_in_task == self.epochs_per_cycle - 1
            self.run_epoch(self.task, task_end)
            if task_end:
                self.stream.end_task(self.task)
                self.call("on_task_end", self.task)
            last_epoch = self.epoch == self.total_epochs or self.stopped
            if checkpoint is not None and (last_epoch or time.monotonic() - last_save >= checkpoint_seconds):
                self.save_checkpoint(checkpoint)
                last_save = time.monotonic()
        self.call("finish")

    # Everything a resumed run needs besides the model and optimizer tensors and the rows: the hooks and stream
    # are pickled whole, random generators included, so a resumed run repeats the same draws.
    CHECKPOINT_FIELDS = ("epoch", "task", "step", "stopped", "init_state", "hooks", "stream", "augmentation_generator")

    def save_checkpoint(self, path: Path) -> None:
        state = {name: getattr(self, name) for name in self.CHECKPOINT_FIELDS}
        state.update(config=self.cfg.to_dict(), model=self.model.state_dict(),
                     optimizer=self.optimizer.state_dict(), rows=self.tables.persist(path),
                     activation_rng=self.activation_generator.get_state())
        with atomic_path(path) as tmp:
            torch.save(state, tmp)

    def resume(self, path: Path | None) -> bool:
        """Load the checkpoint at `path` if there is a usable one; say what happened on stderr."""
        if path is None or not path.exists():
            return False
        try:
            # Our own pickle (hook and stream objects), written by save_checkpoint.
            state = torch.load(path, map_location=self.data.train_x.device, weights_only=False)
            if state.get("config") != self.cfg.to_dict():
                print(f"checkpoint {path} belongs to another run config; starting from scratch", file=sys.stderr)
                return False
            self.tables.restore(path, state["rows"])
        except Exception as error:  # a damaged file costs a restart, never a wrong result
            print(f"checkpoint {path} is unreadable ({error}); starting from scratch", file=sys.stderr)
            return False
        for name in self.CHECKPOINT_FIELDS:
            setattr(self, name, state[name])
        self.model.load_state_dict(state["model"])
        self.activation_generator.set_state(state["activation_rng"])
        self.optimizer = self.new_optimizer()
        self.optimizer.load_state_dict(state["optimizer"])
        print(f"resumed from {path} after epoch {self.epoch}/{self.total_epochs}", file=sys.stderr, flush=True)
        return True

    def run_epoch(self, cycle: int, cycle_end: bool) -> None:
        """Train one epoch, evaluate, record its row (the hooks may add columns) and print one progress line."""
        cfg = self.cfg
        started = time.perf_counter()
        lr = self.lr_at(self.epoch)
        loss = self.train_epoch(cycle)
        self.epoch += 1
        evaluated = cfg.evaluate == "epochs" or cycle_end
        accuracy = self.test_accuracy(cycle) if evaluated else math.nan
        units = self.model.active_units()
        row = {
            **self.identity(), "epoch": self.epoch, "cycle": cycle + 1,
            "task": cycle + 1 if self.stream.distinct_tasks else 1, "test_acc": accuracy,
            "val_acc": self.accuracy(self.data.val_x, self.data.val_y, cycle) if evaluated else math.nan,
            "train_loss": loss,
            "lr": lr, "active_units": units, "cycle_end": cycle_end, "device": self.data.train_x.device.type,
        }
        self.call("on_epoch_end", row)
        self.tables.append("epochs", row)
        print(f"[{cfg.setting}/{cfg.method}/c{cfg.c}/seed{cfg.seed} {self.phase}] epoch {self.epoch}/"
              f"{self.total_epochs} cycle {cycle + 1}/{cfg.cycles} acc {accuracy:.4f} loss {loss:.4f} "
              f"units {units} ({time.perf_counter() - started:.1f}s)", file=sys.stderr, flush=True)


def prepare(cfg: RunConfig, dataset_path: str | Path, threads: int) -> Tensors:
    torch.set_num_threads(threads)
    return Tensors.load(cfg, dataset_path, resolve_device(cfg.device))


def train_run(cfg: RunConfig, dataset_path: str | Path, out_dir: str | Path, threads: int = 1,
              keep_checkpoint: bool = False, checkpoint_seconds: float = 0) -> None:
    """Train one (setting, method, c, seed) run; write epochs.csv, events.csv, probe.csv, norms.csv, tasks.csv and
    state.pt to out_dir.

    probe.csv holds the newborn diagnostics when cfg.probe.enabled, norms.csv the per-layer weight norms when
    cfg.record_norms, tasks.csv the online accuracy per task when cfg.online.enabled, else only their headers. The run checkpoints to out_dir/checkpoint.pt after every
    epoch and resumes from it when rerun.
    """
    data = prepare(cfg, dataset_path, threads)
    model = init_model(cfg, data)
    out_dir = Path(out_dir)
    growth = None
    if cfg.method in GROWTH_METHODS:  # grow the network first, then train what was found (its own checkpoint)
        growth = Trainer(cfg, data, model, build_hooks(cfg, "growth"), phase="growth")
        growth.run(out_dir / GROWTH_CHECKPOINT, checkpoint_seconds)
        model = growth.model
    trainer = Trainer(cfg, data, model, build_hooks(cfg, "cycle"), phase="cycle")
    if growth is not None:
        trainer.init_state = growth.init_state  # the run's initialisation, as for every other method
    checkpoint = out_dir / CHECKPOINT
    trainer.run(checkpoint, checkpoint_seconds)
    phases = [growth, trainer] if growth is not None else [trainer]
    for table, columns in (("probe", PROBE_COLUMNS), ("events", EVENT_COLUMNS), ("norms", NORM_COLUMNS),
                           ("tasks", TASK_COLUMNS)):
        atomic_write_rows([row for t in phases for row in t.tables.rows.get(table, [])], out_dir / f"{table}.csv", columns)
    with atomic_path(out_dir / "state.pt") as tmp:
        torch.save({"init_state": trainer.init_state, "final_state": model.state_dict(),
                    "final_masks": model.masks()}, tmp)
    atomic_write_rows([row for t in phases for row in t.tables.rows["epochs"]], out_dir / "epochs.csv")
    finish_checkpoint(checkpoint, keep_checkpoint)
    if growth is not None:
        finish_checkpoint(out_dir / GROWTH_CHECKPOINT, keep_checkpoint)


def finish_checkpoint(checkpoint: Path, keep: bool) -> None:
    """Delete a finished run's checkpoint and its row files, unless `checkpoints.keep`."""
    if not keep:
        checkpoint.unlink()
        RowStore.clear(checkpoint)


CHECKPOINT = "checkpoint.pt"
GROWTH_CHECKPOINT = "growth_checkpoint.pt"  # a growth method's growth phase

EVENT_COLUMNS = ["setting", "method", "c", "seed", "phase", "event", "epoch", "kind", "layer",
                 "n_edited", "active_before", "active_after", "target"]
NORM_COLUMNS = ["setting", "method", "c", "seed", "phase", "epoch", "layer", "group", "weight_norm"]


def ticket_masks(cfg: RunConfig, trained: MaskedNet, source_masks: dict) -> dict:
    """The final masks of the source run; for Dense, its one-shot magnitude pruning to the unit targets."""
    targets = layer_targets(trained, cfg)
    units = source_masks["units"]
    if cfg.method == "dense":
        units = magnitude_masks(trained, targets, seeded_generator(cfg.seed, "edits"))
    counts = {name: int(mask.sum()) for name, mask in units.items()}
    if counts != targets:
        raise ValueError(f"source run's final mask has units {counts}, the ticket at c={cfg.c} needs {targets}")
    return {**source_masks, "units": units}


def ticket_model(cfg: RunConfig, data: Tensors, source: dict) -> MaskedNet:
    """The source run's final masks on the run's original (or, by config, a fresh) initialisation."""
    model = init_model(cfg, data)
    model.load_state_dict(source["final_state"])
    masks = ticket_masks(cfg, model, source["final_masks"])
    if cfg.ticket_init == "original":
        model.load_state_dict(source["init_state"], strict=False)
    else:
        model = init_model(cfg, data, purpose="fresh-init")
    model.set_masks(masks)
    return model


def retrain_ticket(cfg: RunConfig, dataset_path: str | Path, source_state_path: str | Path,
                   out_dir: str | Path, threads: int = 1, keep_checkpoint: bool = False,
                   checkpoint_seconds: float = 0) -> None:
    """Freeze the source run's final masks, reset the weights and retrain for the full budget (resumable)."""
    data = prepare(cfg, dataset_path, threads)
    source = torch.load(source_state_path, map_location=data.train_x.device, weights_only=True)
    trainer = Trainer(cfg, data, ticket_model(cfg, data, source), build_hooks(cfg, "ticket"), phase="ticket")
    checkpoint = Path(out_dir) / CHECKPOINT
    trainer.run(checkpoint, checkpoint_seconds)
    atomic_write_rows(trainer.tables.rows["epochs"], Path(out_dir) / "epochs.csv")
    finish_checkpoint(checkpoint, keep_checkpoint)
