"""Networks with unit-masked hidden layers.

A masked hidden layer computes h = act(W h_prev + b) * m with m a 0/1 buffer, one entry per unit.
A masked-off unit contributes nothing forward and, through the product, receives no gradient.
Layers are found by name (`model.hidden`), never by position.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class MaskedLinear(nn.Module):
    """A fully connected layer whose output units can be switched off."""

    def __init__(self, in_features: int, units: int):
        super().__init__()
        self.linear = nn.Linear(in_features, units)
        self.register_buffer("mask", torch.ones(units))

    @property
    def units(self) -> int:
        return self.linear.out_features

    @property
    def fan_in(self) -> int:
        return self.linear.in_features

    def incoming_magnitude(self) -> torch.Tensor:
        """Mean |incoming weight| of each unit: the Prune score."""
        return self.linear.weight.detach().abs().mean(dim=1)


class MaskedNet(nn.Module):
    """trunk -> flatten -> masked hidden FC layers -> unmasked head.

    The MLP has an identity trunk; the ConvNet puts its dense conv stack there. `forward` can record,
    per masked layer, the pre-activation z and the unmasked post-activation act(z) that the Grow
    score and the probes read.
    """

    def __init__(self, trunk: nn.Module, flat_features: int, hidden: tuple[int, ...], classes: int):
        super().__init__()
        self.trunk = trunk
        self.hidden = nn.ModuleDict()
        width = flat_features
        for index, units in enumerate(hidden, start=1):
            self.hidden[f"fc{index}"] = MaskedLinear(width, units)
            width = units
        self.head = nn.Linear(width, classes)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor, record: dict | None = None) -> torch.Tensor:
        h = self.trunk(x).flatten(1)
        for name, layer in self.hidden.items():
            z = layer.linear(h)
            a = self.act(z)
            if record is not None:
                record[name] = (z, a)
            h = a * layer.mask
        return self.head(h)

    def masks(self) -> dict[str, torch.Tensor]:
        return {name: layer.mask.clone() for name, layer in self.hidden.items()}

    def set_masks(self, masks: dict[str, torch.Tensor]) -> None:
        for name, layer in self.hidden.items():
            layer.mask.copy_(masks[name])

    def active_units(self) -> int:
        return int(sum(layer.mask.sum().item() for layer in self.hidden.values()))


def build_model(kind: str, input_shape: tuple[int, int, int], hidden: tuple[int, ...], classes: int) -> MaskedNet:
    """The MLP (784 -> H -> H -> 10) or the hybrid ConvNet of PROTOCOL.md section 1."""
    if kind == "mlp":
        return MaskedNet(nn.Identity(), math.prod(input_shape), hidden, classes)
    if kind == "convnet":
        channels, height, width = input_shape
        trunk = nn.Sequential(
            nn.Conv2d(channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        return MaskedNet(trunk, 64 * (height // 4) * (width // 4), hidden, classes)
    raise ValueError(f"unknown model {kind!r}: expected 'mlp' or 'convnet'")
