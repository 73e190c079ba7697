"""The fully resolved configuration of one training run.

Every protocol decision of PROTOCOL.md is a field here, so a run is reproducible from this
object alone and Snakemake reruns a job whenever one of its fields changes. The values come from
config.yaml (its `defaults` block, then a setting and the scale's overrides: plasticity.config), the one
place they are written; this class has no defaults of its own.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

@dataclass(frozen=True)
class GrowConfig:
    seed_fraction: float  # fraction of each masked layer's units active before cycle 1
    selector: str  # "activation" | "gradient" | "gradmax"
    tau: float  # activation threshold of the activation score
    score_batch_size: int  # samples in the one mini-batch that scores inactive units
    insertion: str  # "init": newborns keep their initial weights | "net2wider": a donor is split into it
    net2wider_noise: float  # Net2Wider: Gaussian noise on the copied incoming weights, x the donor's mean |weight|
    transplant: bool  # Moment Transplant: newborns get their donors' optimizer state at birth
    donor: str  # "best": every newborn's donor is the incumbent with the highest score | "ranked": i-th to i-th
    two_speed_factor: float  # Two-Speed r: newborn slices move r times their update (1: off)
    two_speed_steps: int  # Two-Speed N: optimizer steps after each birth that its newborns are amplified


@dataclass(frozen=True)
class RslConfig:
    """Randomized Smooth-Leaky: f(x) = r x + (1 - r) x sigmoid(c x / p), r ~ U[lower, upper] in training."""

    c: float
    p: float
    lower: float
    upper: float


@dataclass(frozen=True)
class PruneConfig:
    rewind: str  # "all": trunk, hidden layers and head go back to their initial values
    reset_optimizer: bool


@dataclass(frozen=True)
class ReplayConfig:
    enabled: bool
    per_class: int
    cap: int  # total examples; 0: no cap (per_class for every class seen)
    policy: str  # "balanced": quota min(per_class, cap // classes), random eviction; "add_only"
    fraction: float  # replay share of a mini-batch from task 2 on
    composition: str  # "share": replay takes `fraction` of batch_size; "extra": added on top of it


@dataclass(frozen=True)
class ProbeConfig:
    enabled: bool  # newborn diagnostics (plasticity.probes); a run without them pays nothing
    batch_size: int  # samples in the fixed mini-batch of each task
    tau: float


@dataclass(frozen=True)
class OnlineConfig:
    """Online accuracy per task (plasticity.metrics_hooks.TaskOnlineAccuracy): tasks.csv."""

    enabled: bool
    early_fraction: float  # Early-task TAA: the first this share of each task's steps
    average: str  # the stream's average accuracy: "online" (TAOA) | "task_test" (test accuracy at each task's end)
    largest_tasks_only: bool  # average over the tasks with the most classes only (5+1 CIFAR: the hard tasks)


@dataclass(frozen=True)
class RegularizerConfig:
    """The weight regulariser that runs beside the unit-edit method (PROTOCOL.md section 7)."""

    kind: str  # "none" | "l2" | "l2_init" | "shrink_perturb" | "head_reset" | "swr" | "swr_reinit"
    strength: float  # the protocol's lambda; SWR: of the feature extractor
    head_strength: float  # SWR only: lambda of the classifier (the head)
    scale_inactive: bool  # SWR with unit masks: masked-off units' incoming weights are rescaled too


@dataclass(frozen=True)
class SparseConfig:
    """Connection-level sparsity of the GCG study (PROTOCOL.md section 8)."""

    seed_mask: str  # "phew" | "random": the growth methods' starting mask
    seed_density: float
    growth_factor: float  # density x this per growth stage
    stage_epochs: tuple[int, ...]  # epochs of growth stage 1, 2, ...; the last entry repeats
    growth_epochs: int  # the most epochs the growth phase may take
    grow_init: str  # "zero" | "init"
    stop_epsilon: float  # accuracy as a fraction
    stop_min_stages: int
    stop_fallback_gain: float
    stop_fallback_stages: int
    imp_fraction: float  # IMP: share of the remaining weights pruned per round
    imp_rewind_epoch: int  # IMP: epochs of round 1 after which the rewind point is taken (0: initial weights)
    rigl_interval: int  # RigL: optimizer steps between updates
    rigl_fraction: float  # RigL: initial drop fraction, decayed by a cosine
    rigl_end: float  # RigL: share of training after which the mask stays fixed
    set_fraction: float  # SET: drop fraction at the end of every epoch


@dataclass(frozen=True)
class RunConfig:
    setting: str
    method: str  # "dense" | "grow" | "prune": the unit-edit method
    c: int  # compactness in integer percent; 100 for the dense training run
    seed: int
    dataset: str
    model: str
    hidden: tuple[int, ...]
    convnet_channels: tuple[int, int]  # the ConvNet trunk's conv widths; other models ignore it
    stream: str  # "iid" | "split" | "warm_start" | "chunks" | "permuted" | "random_label" | "class_tasks"
    tasks: int  # split streams: one task per cycle, so tasks == cycles
    task_classes: tuple[int, ...]  # class_tasks: classes of task 1, 2, ... (the list repeats: 5+1 is [5, 1])
    task_labels: str  # class_tasks: "global" (the dataset's labels, its full head) | "local" (0..k-1, a k-way head)
    images_per_class: int  # class_tasks: fixed training images of each class (0: all of them)
    steps_per_epoch: int  # 0: an epoch is one pass over the task's data; else this many batches of reshuffled passes
    evaluate: str  # "epochs": test and validation accuracy after every epoch | "task_ends": after each task's last
    edit_every_tasks: int  # unit edits at the start of every this many tasks (cycles)
    edit_events: int  # unit edit events after the seed; 0: every boundary edit_every_tasks reaches
    warm_fraction: float  # warm_start: share of the training data in cycle 1 (cycle 2 trains on all)
    access: str  # chunks: "full" trains chunks 1..k in cycle k, "limited" chunk k only
    val_fraction: float  # fixed class-balanced share of the training data held out for validation
    cycles: int
    epochs_per_cycle: int
    batch_size: int
    lr: float
    lr_schedule: str  # "constant" | "cosine" (to 0 over the horizon) | "step"
    lr_horizon_epochs: int  # cosine: epochs to reach 0; 0: the schedule's segment (the run, or a cycle)
    lr_restart: str  # "never" | "cycle": every cycle | "rewind": every cycle of a rewinding method
    lr_milestones: tuple[int, ...]  # step: epochs (0-based) at which the LR is multiplied by lr_gamma
    lr_gamma: float
    optimizer: str  # "sgd" | "adam"
    momentum: float
    weight_decay: float
    allocation: str
    train_subset: int  # 0: the whole training set; else a seeded class-stratified subset of this size
    test_subset: int
    ticket_init: str  # "original" | "fresh"
    ticket_schedule: str  # "own": a ticket never rewinds | "source": it restarts where its source run did
    dense_ticket_mask: str  # one-shot magnitude pruning of the trained dense network
    grow: GrowConfig
    prune: PruneConfig
    replay: ReplayConfig
    probe: ProbeConfig
    regularizer: RegularizerConfig
    sparse: SparseConfig
    activation: str  # "relu" | "rsl": every activation of the network
    rsl: RslConfig
    nesterov: bool
    augmentation: str  # "none" | "crop_flip": random 4-pixel-padded crop and horizontal flip of training batches
    online: OnlineConfig
    record_norms: bool  # per-epoch Frobenius norm of every weight layer (norms.csv)
    epoch_metrics: tuple[str, ...]  # hooks that add columns to the epoch rows (plasticity.hooks.EPOCH_METRICS)
    device: str  # "auto" | "cpu" | "cuda"

    @property
    def compactness(self) -> float:
        return self.c / 100

    @property
    def total_epochs(self) -> int:
        return self.cycles * self.epochs_per_cycle

    @property
    def edit_event_count(self) -> int:
        """E, the unit edit events after the seed: `edit_events`, or every `edit_every_tasks`-th boundary there is."""
        reachable = (self.cycles - 1) // self.edit_every_tasks
        return min(self.edit_events, reachable) if self.edit_events else reachable

    def edit_index(self, task: int) -> int | None:
        """The 0-based index t of the edit event at the start of 0-based task `task`, or None where none fires."""
        if task == 0 or task % self.edit_every_tasks:
            return None
        index = task // self.edit_every_tasks - 1
        return index if index < self.edit_event_count else None

    @classmethod
    def from_dict(cls, values: dict) -> RunConfig:
        values = dict(values)
        nested = {"grow": GrowConfig, "prune": PruneConfig, "replay": ReplayConfig, "probe": ProbeConfig,
                  "regularizer": RegularizerConfig, "sparse": SparseConfig, "rsl": RslConfig,
                  "online": OnlineConfig}
        for key, kind in nested.items():
            if key in values:
                values[key] = kind(**values[key])
        for key in ("hidden", "convnet_channels", "lr_milestones", "epoch_metrics", "task_classes"):
            if key in values:
                values[key] = tuple(values[key])
        if "sparse" in values:
            values["sparse"] = dataclasses.replace(values["sparse"], stage_epochs=tuple(values["sparse"].stage_epochs))
        return cls(**values)

    def to_dict(self) -> dict:
        values = dataclasses.asdict(self)
        values["hidden"] = list(self.hidden)
        values["convnet_channels"] = list(self.convnet_channels)
        values["lr_milestones"] = list(self.lr_milestones)
        values["epoch_metrics"] = list(self.epoch_metrics)
        values["task_classes"] = list(self.task_classes)
        values["sparse"]["stage_epochs"] = list(self.sparse.stage_epochs)
        return values
