"""Unit surgery: where a unit lives in the parameters, the optimizer state of those slices, and the gradient of
connection-masked weights at their masked positions.

A unit j of a masked layer is row j of its producer (incoming weights and bias) and column j of its consumer
(the next layer's weights). For a conv channel that feeds a linear layer through a flatten, the consumer's
columns of channel c are the H x W consecutive ones c * HW .. (c + 1) * HW - 1.

Optimizer state: SGD keeps `momentum_buffer`, Adam `exp_avg` and `exp_avg_sq`, one entry per weight; the helpers
read, zero, scale or copy their slices. Adam also keeps one `step` count per tensor, not per entry: a slice
that is zeroed or copied keeps the tensor's count, so its bias correction is the tensor's (a zeroed newborn's
moments are corrected as if accumulated since the first step; transplanted moments as the donor's were).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from plasticity.models import MaskedNet

STATE_KEYS = ("momentum_buffer", "exp_avg", "exp_avg_sq")  # per-entry optimizer state: SGD, Adam


@dataclass(frozen=True)
class UnitSlice:
    """The entries of `param` along `dim` that belong to units: `block` consecutive positions per unit."""

    param: nn.Parameter
    dim: int
    block: int = 1

    def positions(self, units: torch.Tensor) -> torch.Tensor:
        units = torch.as_tensor(units, device=self.param.device).flatten()
        return (units[:, None] * self.block + torch.arange(self.block, device=units.device)).flatten()

    def get(self, tensor: torch.Tensor, units: torch.Tensor) -> torch.Tensor:
        return tensor.index_select(self.dim, self.positions(units))

    def put(self, tensor: torch.Tensor, units: torch.Tensor, values: torch.Tensor) -> None:
        tensor.index_copy_(self.dim, self.positions(units), values)


def unit_slices(model: MaskedNet, layer: str) -> list[UnitSlice]:
    """Unit j of masked layer `layer`: its incoming weights and bias, and its column in the consumer."""
    weight, bias = model.producer(layer)
    return [UnitSlice(weight, 0), UnitSlice(bias, 0), UnitSlice(model.consumer(layer), 1)]


def conv_to_linear_slices(conv: nn.Conv2d, linear: nn.Linear) -> list[UnitSlice]:
    """Channel c of `conv`, whose flattened output `linear` reads: its filter and bias, and its block of columns."""
    block = linear.in_features // conv.out_channels
    slices = [UnitSlice(conv.weight, 0), UnitSlice(linear.weight, 1, block)]
    return slices + ([UnitSlice(conv.bias, 0)] if conv.bias is not None else [])


def state_of(optimizer, param: nn.Parameter) -> dict[str, torch.Tensor]:
    """The per-entry state tensors the optimizer keeps for `param` (none before its first step)."""
    state = optimizer.state.get(param, {})
    return {key: state[key] for key in STATE_KEYS if isinstance(state.get(key), torch.Tensor)}


def read_state(optimizer, slices: list[UnitSlice], units) -> list[dict[str, torch.Tensor]]:
    """Copies of the state slices of `units`, one dict per slice."""
    return [{key: piece.get(tensor, units).clone() for key, tensor in state_of(optimizer, piece.param).items()}
            for piece in slices]


@torch.no_grad()
def scale_state(optimizer, slices: list[UnitSlice], units, factor: float) -> None:
    for piece in slices:
        for tensor in state_of(optimizer, piece.param).values():
            piece.put(tensor, units, piece.get(tensor, units) * factor)


def zero_state(optimizer, slices: list[UnitSlice], units) -> None:
    scale_state(optimizer, slices, units, 0.0)


@torch.no_grad()
def copy_state(optimizer, slices: list[UnitSlice], source, target) -> None:
    """Give the units `target` the optimizer state of the units `source` (one source per target)."""
    for piece in slices:
        for tensor in state_of(optimizer, piece.param).values():
            piece.put(tensor, target, piece.get(tensor, source))


@torch.no_grad()
def split_units(model: MaskedNet, layer: str, donors: torch.Tensor, newborns: torch.Tensor, noise: float = 0.0,
                generator: torch.Generator | None = None) -> None:
    """Net2Wider: newborn i copies the incoming weights and bias of donors[i] (plus `noise` x their mean |weight| of
    Gaussian noise, to break the symmetry), and each donor's outgoing weights are split evenly between it and its
    newborns, so that once the newborns are active (an edit) the network computes the same function (exactly,
    without noise)."""
    weight, bias = model.producer(layer)
    consumer = model.consumer(layer)
    donors, newborns = torch.as_tensor(donors).flatten().tolist(), torch.as_tensor(newborns).flatten().tolist()
    for donor in dict.fromkeys(donors):
        family = [donor] + [newborn for newborn, d in zip(newborns, donors) if d == donor]
        share = consumer[:, donor] / len(family)
        for unit in family:
            consumer[:, unit] = share
    for donor, newborn in zip(donors, newborns):
        weight[newborn] = weight[donor]
        bias[newborn] = bias[donor]
        if noise:
            jitter = torch.randn(weight[newborn].shape, generator=generator).to(weight)
            weight[newborn] += noise * weight[donor].abs().mean() * jitter


def masked_weight_gradients(model: MaskedNet, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    """dL/d(W * M) on the batch for every connection-masked layer: the gradient the masked weights would get,
    read at every position, masked ones included (what RigL grows by). Parameters' .grad are left untouched."""
    layers = {name: layer for name, layer in model.connection_layers().items() if layer.weight_mask is not None}
    for layer in layers.values():
        layer.track_masked_weight = True
    try:
        loss = F.cross_entropy(model(x), y)
        gradients = torch.autograd.grad(loss, [layer.last_masked_weight for layer in layers.values()])
    finally:
        for layer in layers.values():
            layer.track_masked_weight = False
            del layer.last_masked_weight
    return dict(zip(layers, gradients))
