"""The hook protocol: everything that acts on training is a hook of the one loop (plasticity.train.Trainer).

A run's hooks are built from its config (`build_hooks`) in one fixed order, and the loop calls each method
on every hook in that order:

    1. the unit-edit method         Dense, Grow, Prune (plasticity.methods, `method`)
       and its interventions        Two-Speed, Moment Transplant, Net2Wider at births (`grow.*`, INTERVENTIONS)
    2. the weight regulariser       none, L2, L2-Init, Shrink & Perturb, head reset, SWR (`regularizer.kind`)
    3. probes and metrics           the newborn probe (`probe.enabled`), epoch metrics (`epoch_metrics`), online
                                    accuracy per task (`online.enabled`)
    4. recorders                    per-layer weight norms (`record_norms`)

and the loop calls the hook methods at these points:

    setup()                          once, before the first epoch (a resumed run does not repeat it)
    for each task (cycle) t:
        on_task_start(t)             before the task's first epoch (t = 0 included)
        for each epoch:
            on_lr_change(old, new)   when the epoch's learning rate differs from the previous epoch's
            for each mini-batch:
                penalty()            terms added to the loss
                (backward)
                before_step()        gradients computed, parameters not yet updated
                (optimizer step)
                after_step()
            on_epoch_end(row)        after evaluation; may add columns to the epoch's row
        on_task_end(t)               after the task's last epoch
    finish()                         after the last epoch
    on_edit(edit)                    whenever a hook changes masks through Trainer.apply_edit (any point above)

A hook keeps no references to the model's tensors between calls (hooks are pickled into checkpoints):
it looks them up on the trainer. Its tidy rows go to trainer.tables under the table's name.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the loop (plasticity.train) imports this module, not the reverse
    import torch

    from plasticity.run import RunConfig


@dataclass
class Edit:
    """A change of masks, applied by Trainer.apply_edit: the new unit mask of each layer it touches.

    `event` labels it in events.csv (0: before training, b: the boundary before task b). A "seed" edit sets
    the initial masks: nothing counts as active before it, and no unit of it is a newborn.
    """

    kind: str
    event: int
    masks: dict[str, torch.Tensor]
    targets: dict[str, int] = field(default_factory=dict)
    scores: dict[str, torch.Tensor] = field(default_factory=dict)  # the selection score of every unit, where scored
    before: dict[str, torch.Tensor] = field(default_factory=dict)  # filled by apply_edit

    def added(self, layer: str) -> torch.Tensor:
        return (self.masks[layer] > 0) & ~(self.before[layer] > 0)

    def removed(self, layer: str) -> torch.Tensor:
        return (self.before[layer] > 0) & ~(self.masks[layer] > 0)

    def births(self) -> dict[str, torch.Tensor]:
        """The newborn units of each layer (indices, on the CPU); none for a seed edit."""
        if self.kind == "seed":
            return {}
        born = {layer: self.added(layer).nonzero().flatten().cpu() for layer in self.masks}
        return {layer: units for layer, units in born.items() if len(units)}


class Hook:
    """Does nothing at every point of the loop; a hook overrides the methods it needs. Built with the run's
    config (every registered hook takes it), it may keep what it needs of it."""

    def __init__(self, cfg: RunConfig | None = None):
        pass

    def setup(self, trainer) -> None:
        pass

    def on_task_start(self, trainer, task: int) -> None:
        pass

    def on_lr_change(self, trainer, old: float, new: float) -> None:
        pass

    def penalty(self, trainer) -> torch.Tensor | float:
        return 0.0

    def before_step(self, trainer) -> None:
        pass

    def after_step(self, trainer) -> None:
        pass

    def on_epoch_end(self, trainer, row: dict) -> None:
        pass

    def on_task_end(self, trainer, task: int) -> None:
        pass

    def on_edit(self, trainer, edit: Edit) -> None:
        pass

    def finish(self, trainer) -> None:
        pass


@dataclass(frozen=True)
class Entry:
    """A registered hook: where its class lives (imported when a run builds it, so the analysis jobs never
    import torch), and how tables and figures label and draw it."""

    hook: str  # "module:attribute"
    label: str
    color: str = "#000000"
    linestyle: str = "-"

    def build(self, cfg: RunConfig) -> Hook:
        module, name = self.hook.split(":")
        return getattr(importlib.import_module(module), name)(cfg)


# The one registry of each kind of hook. config.yaml's schema takes its method and regulariser names from here.
# Colours: the Okabe-Ito colour-blind-safe palette; a method or regulariser keeps its colour in every figure.
METHODS = {
    "dense": Entry("plasticity.hooks:Hook", "Dense", "#000000"),
    "grow": Entry("plasticity.methods.grow:Grow", "Grow", "#D55E00"),
    "prune": Entry("plasticity.methods.prune:Prune", "Prune", "#0072B2"),
    # Connection-level methods of the GCG study (plasticity.methods.sparse); c is their target density.
    "pathgrow": Entry("plasticity.methods.sparse:PathGrow", "PathGrow", "#009E73"),
    "random_growth": Entry("plasticity.methods.sparse:RandomGrowth", "Random growth", "#E69F00"),
    "gradient_growth": Entry("plasticity.methods.sparse:GradientGrowth", "Gradient growth", "#CC79A7"),
    "imp": Entry("plasticity.methods.sparse:IterativeMagnitudePruning", "IMP", "#0072B2"),
    "rigl": Entry("plasticity.methods.sparse:RigL", "RigL", "#56B4E9"),
    "set": Entry("plasticity.methods.sparse:SET", "SET", "#F0E442"),
    "phew": Entry("plasticity.methods.sparse:FixedPhew", "PHEW (fixed)", "#D55E00", "--"),
}
REGULARIZERS = {
    "none": Entry("plasticity.hooks:Hook", "Vanilla", "#000000"),
    "l2": Entry("plasticity.methods.regularizers:L2", "L2", "#0072B2"),
    "l2_init": Entry("plasticity.methods.regularizers:L2Init", "L2-Init", "#56B4E9"),
    "shrink_perturb": Entry("plasticity.methods.regularizers:ShrinkPerturb", "Shrink & Perturb", "#E69F00"),
    "head_reset": Entry("plasticity.methods.regularizers:HeadReset", "Head reset", "#CC79A7"),
    "swr": Entry("plasticity.methods.regularizers:SoftWeightRescaling", "SWR", "#009E73"),  # re-init: dashed
    "swr_reinit": Entry("plasticity.methods.regularizers:SoftWeightRescaling", "SWR + re-init", "#009E73", "--"),
}
# Interventions on newborn integration (PROTOCOL.md section 5, plasticity.methods.interventions): hooks that act at
# every birth, whichever method gives it; each is on where its `grow` keys say (`enabled_interventions`).
INTERVENTIONS = {
    "net2wider": Entry("plasticity.methods.interventions:Net2Wider", "Net2Wider"),
    "transplant": Entry("plasticity.methods.interventions:MomentTransplant", "Moment Transplant"),
    "two_speed": Entry("plasticity.methods.interventions:TwoSpeed", "Two-Speed"),
}
EPOCH_METRICS = {
    "online_acc": Entry("plasticity.metrics_hooks:OnlineAccuracy", "online accuracy"),
    "train_cost": Entry("plasticity.methods.sparse:TrainCost", "training cost"),
}
PROBE = Entry("plasticity.probes:NewbornProbe", "newborn probe")
TASK_ONLINE = Entry("plasticity.metrics_hooks:TaskOnlineAccuracy", "online accuracy per task")
NORM_RECORDER = Entry("plasticity.metrics_hooks:NormRecorder", "weight norms")
# Methods whose run has a growth phase before its training (plasticity.methods.sparse); at c = 100 the stopping
# rule ends their growth. The fixed-density methods train at a density c < 100 only.
GROWTH_METHODS = ("pathgrow", "random_growth", "gradient_growth")
FIXED_DENSITY_METHODS = ("imp", "rigl", "set", "phew")
# Method pairs of the Welch tables (Dense/Grow/Prune studies).
COMPARISONS = [("grow", "dense"), ("grow", "prune"), ("dense", "prune")]


def build_hooks(cfg: RunConfig, phase: str) -> list[Hook]:
    """The hooks of a training run (phase "cycle"), of a growth method's growth phase before it ("growth"), or
    of a winning ticket's retraining ("ticket"), in the loop's order. A ticket keeps its mask, and so does the
    training after a growth phase: they have no edit method and no regulariser, only their epoch metrics."""
    if phase == "ticket" or (phase == "cycle" and cfg.method in GROWTH_METHODS):
        return [EPOCH_METRICS[name].build(cfg) for name in cfg.epoch_metrics]
    hooks = [lookup(METHODS, cfg.method, "method").build(cfg)]
    hooks += [INTERVENTIONS[name].build(cfg) for name in enabled_interventions(cfg)]
    hooks.append(lookup(REGULARIZERS, cfg.regularizer.kind, "regularizer").build(cfg))
    if cfg.probe.enabled:
        hooks.append(PROBE.build(cfg))
    hooks += [EPOCH_METRICS[name].build(cfg) for name in cfg.epoch_metrics]
    if cfg.online.enabled:
        hooks.append(TASK_ONLINE.build(cfg))
    if cfg.record_norms:
        hooks.append(NORM_RECORDER.build(cfg))
    return hooks


def enabled_interventions(cfg: RunConfig) -> list[str]:
    """The interventions a run's config turns on, in INTERVENTIONS order (Net2Wider sets a newborn's weights
    before Moment Transplant sets its optimizer state)."""
    enabled = {"net2wider": cfg.grow.insertion == "net2wider", "transplant": cfg.grow.transplant,
               "two_speed": cfg.grow.two_speed_factor != 1 and cfg.grow.two_speed_steps > 0}
    return [name for name in INTERVENTIONS if enabled[name]]


def lookup(registry: dict[str, Entry], name: str, what: str) -> Entry:
    if name not in registry:
        raise ValueError(f"unknown {what} {name!r}: expected one of {sorted(registry)}")
    return registry[name]
