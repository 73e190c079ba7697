"""Weight regularisers of the SWR study (PROTOCOL.md section 7): hooks that run beside the unit-edit method.

They touch weights, never masks, and keep no references to the model's tensors (they are pickled into
checkpoints): each hook looks the parameters up on trainer.model. theta_0 is the run's initialisation,
trainer.init_state. Lambda is cfg.regularizer.strength (SWR: of the feature extractor; head_strength is
the classifier's).

- none (vanilla): the base Hook, which does nothing.
- l2: adds lambda/2 ||theta||^2 to the loss.
- l2_init: adds lambda/2 ||theta - theta_0||^2 to the loss (the publication's App. D.2; PROTOCOL.md drops the 1/2).
- shrink_perturb (no noise): theta <- (1 - lambda) theta + lambda theta_0 at each data change.
- head_reset: the head is re-initialised at each data change (its optimizer state is left as it is).
- swr, swr_reinit: Soft Weight Rescaling, see SoftWeightRescaling.
"""

from __future__ import annotations

import torch
from torch import nn

from plasticity.hooks import Hook
from plasticity.models import WeightLayer
from plasticity.run import RunConfig
from plasticity.streams import seed_for


def parameters_and_initial(trainer) -> list[tuple[nn.Parameter, torch.Tensor]]:
    return [(parameter, trainer.init_state[name]) for name, parameter in trainer.model.named_parameters()]


class L2(Hook):
    def penalty(self, trainer) -> torch.Tensor:
        strength = trainer.cfg.regularizer.strength
        return strength / 2 * sum(parameter.pow(2).sum() for parameter in trainer.model.parameters())


class L2Init(Hook):
    def penalty(self, trainer) -> torch.Tensor:
        strength = trainer.cfg.regularizer.strength
        return strength / 2 * sum((parameter - initial).pow(2).sum() for parameter, initial in parameters_and_initial(trainer))


class ShrinkPerturb(Hook):
    @torch.no_grad()
    def on_task_start(self, trainer, task: int) -> None:
        if task == 0:
            return
        strength = trainer.cfg.regularizer.strength
        for parameter, initial in parameters_and_initial(trainer):
            parameter.mul_(1 - strength).add_(initial, alpha=strength)


class HeadReset(Hook):
    @torch.no_grad()
    def on_task_start(self, trainer, task: int) -> None:
        if task == 0:
            return
        head = trainer.model.head
        # A fresh head drawn on the CPU from the run's seed and the boundary, so every device gets the same one.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed_for(trainer.cfg.seed, f"head-reset:{task}"))
            fresh = trainer.model.new_head()
        head.load_state_dict(fresh.state_dict())


class SoftWeightRescaling(Hook):
    """SWR: after every optimizer step, for each weight layer l in forward order, with n_l = ||W_l||_F at
    initialisation: c_l = lambda n_l / ||W_l||_F + (1 - lambda); W_l <- c_l W_l; its bias <- C_l b_l with
    C_l = c_1 ... c_l. In a ReLU / max-pool network every layer's output is then C_l times what it was,
    so the logits are scaled by C_L > 0 and the predicted classes do not change.

    Decisions (the paper is silent): a normalisation layer removes the scale its input carries, so the
    cumulative product restarts at it (C = c_bn: its weight and bias both scale by c_bn), which keeps the
    predictions unchanged under batch statistics. In a unit-masked layer the norm is that of the whole
    weight matrix; `scale_inactive` says whether masked-off units' incoming weights and biases are rescaled
    too (true: a newborn enters with its initial weights shrunk like its layer's) or left as initialised.
    With `reinit` (SWR + re-init), n_l is reset to the current norms whenever the learning rate decays.
    """

    def __init__(self, cfg: RunConfig):
        self.reinit = cfg.regularizer.kind == "swr_reinit"
        self.reference_norms: dict[str, float] = {}

    @staticmethod
    def current_norms(trainer) -> dict[str, float]:
        return {layer.name: layer.module.weight.detach().norm().item() for layer in trainer.model.weight_layers()}

    def setup(self, trainer) -> None:
        self.reference_norms = self.current_norms(trainer)

    def on_lr_change(self, trainer, old: float, new: float) -> None:
        if self.reinit and new < old:
            self.reference_norms = self.current_norms(trainer)

    @torch.no_grad()
    def after_step(self, trainer) -> None:
        cfg = trainer.cfg.regularizer
        cumulative = torch.ones((), device=trainer.data.train_x.device)
        for layer in trainer.model.weight_layers():
            strength = cfg.head_strength if layer.group == "classifier" else cfg.strength
            weight = layer.module.weight
            factor = strength * self.reference_norms[layer.name] / weight.norm() + (1 - strength)
            cumulative = factor if layer.normalises else cumulative * factor
            weight.mul_(per_unit(factor, layer, weight.dim(), cfg.scale_inactive))
            if layer.module.bias is not None:
                layer.module.bias.mul_(per_unit(cumulative, layer, 1, cfg.scale_inactive))


def per_unit(factor: torch.Tensor, layer: WeightLayer, dims: int, scale_inactive: bool) -> torch.Tensor:
    """The factor for each output unit of the layer, shaped to broadcast over a tensor with `dims` dimensions:
    1 for masked-off units when they are not to be rescaled."""
    if layer.mask is None or scale_inactive:
        return factor
    return torch.where(layer.mask > 0, factor, torch.ones_like(factor)).view(-1, *[1] * (dims - 1))
