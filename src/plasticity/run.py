"""The fully resolved configuration of one training run.

Every protocol decision of PROTOCOL.md is a field here, so a run is reproducible from this
object alone and Snakemake reruns a job whenever one of its fields changes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

@dataclass(frozen=True)
class GrowConfig:
    seed_fraction: float = 0.1  # fraction of each masked layer's units active before cycle 1
    selector: str = "activation"  # "activation" | "gradient"
    tau: float = 0.05  # activation threshold of the activation score
    score_batch_size: int = 256  # samples in the one mini-batch that scores inactive units


@dataclass(frozen=True)
class PruneConfig:
    rewind: str = "all"  # "all": trunk, hidden layers and head go back to their initial values
    reset_optimizer: bool = True


@dataclass(frozen=True)
class ReplayConfig:
    enabled: bool = True
    per_class: int = 50
    cap: int = 0  # total examples; 0: no cap (per_class for every class seen)
    policy: str = "balanced"  # "balanced": quota min(per_class, cap // classes), random eviction; "add_only"
    fraction: float = 0.5  # replay share of a mini-batch from task 2 on
    composition: str = "share"  # "share": replay takes `fraction` of batch_size; "extra": added on top of it


@dataclass(frozen=True)
class ProbeConfig:
    enabled: bool = False  # newborn diagnostics (plasticity.probes); a run without them pays nothing
    batch_size: int = 256  # samples in the fixed mini-batch of each task
    tau: float = 0.05


@dataclass(frozen=True)
class RegularizerConfig:
    """The weight regulariser that runs beside the unit-edit method (PROTOCOL.md section 7)."""

    kind: str = "none"  # "none" | "l2" | "l2_init" | "shrink_perturb" | "head_reset" | "swr" | "swr_reinit"
    strength: float = 0.0  # the protocol's lambda; SWR: of the feature extractor
    head_strength: float = 0.0  # SWR only: lambda of the classifier (the head)
    scale_inactive: bool = True  # SWR with unit masks: masked-off units' incoming weights are rescaled too


@dataclass(frozen=True)
class RunConfig:
    setting: str
    method: str  # "dense" | "grow" | "prune": the unit-edit method
    c: int  # compactness in integer percent; 100 for the dense training run
    seed: int
    dataset: str
    model: str = "mlp"
    hidden: tuple[int, ...] = (256, 256)
    stream: str = "iid"  # "iid" | "split" | "warm_start" | "chunks" | "permuted" | "random_label"
    tasks: int = 1  # split streams: one task per cycle, so tasks == cycles
    warm_fraction: float = 0.5  # warm_start: share of the training data in cycle 1 (cycle 2 trains on all)
    access: str = "full"  # chunks: "full" trains chunks 1..k in cycle k, "limited" chunk k only
    val_fraction: float = 0.0  # fixed class-balanced share of the training data held out for validation
    cycles: int = 5
    epochs_per_cycle: int = 20
    batch_size: int = 64
    lr: float = 0.01
    lr_schedule: str = "cosine"  # "constant" | "cosine" (to 0 over the horizon) | "step"
    lr_horizon_epochs: int = 0  # cosine: epochs to reach 0; 0: the schedule's segment (the run, or a cycle)
    lr_restart: str = "never"  # "never" | "cycle": every cycle | "rewind": every cycle of a rewinding method
    lr_milestones: tuple[int, ...] = ()  # step: epochs (0-based) at which the LR is multiplied by lr_gamma
    lr_gamma: float = 0.1
    optimizer: str = "sgd"  # "sgd" | "adam"
    momentum: float = 0.0
    weight_decay: float = 0.0
    allocation: str = "neutral"
    train_subset: int = 0  # 0: the whole training set; else a seeded class-stratified subset of this size
    test_subset: int = 0
    ticket_init: str = "original"  # "original" | "fresh"
    ticket_schedule: str = "own"  # "own": a ticket never rewinds | "source": it restarts where its source run did
    dense_ticket_mask: str = "magnitude"  # one-shot magnitude pruning of the trained dense network
    grow: GrowConfig = field(default_factory=GrowConfig)
    prune: PruneConfig = field(default_factory=PruneConfig)
    replay: ReplayConfig = field(default_factory=ReplayConfig)
    probe: ProbeConfig = field(default_factory=ProbeConfig)
    regularizer: RegularizerConfig = field(default_factory=RegularizerConfig)
    record_norms: bool = False  # per-epoch Frobenius norm of every weight layer (norms.csv)
    epoch_metrics: tuple[str, ...] = ()  # hooks that add columns to the epoch rows (plasticity.hooks.EPOCH_METRICS)
    device: str = "auto"  # "auto" | "cpu" | "cuda"

    @property
    def compactness(self) -> float:
        return self.c / 100

    @property
    def total_epochs(self) -> int:
        return self.cycles * self.epochs_per_cycle

    @classmethod
    def from_dict(cls, values: dict) -> RunConfig:
        values = dict(values)
        nested = {"grow": GrowConfig, "prune": PruneConfig, "replay": ReplayConfig, "probe": ProbeConfig,
                  "regularizer": RegularizerConfig}
        for key, kind in nested.items():
            if key in values:
                values[key] = kind(**values[key])
        for key in ("hidden", "lr_milestones", "epoch_metrics"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)

    def to_dict(self) -> dict:
        values = dataclasses.asdict(self)
        values["hidden"] = list(self.hidden)
        values["lr_milestones"] = list(self.lr_milestones)
        values["epoch_metrics"] = list(self.epoch_metrics)
        return values
