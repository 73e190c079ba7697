"""Connection-level sparsity of the gradual-capacity-growth study (PROTOCOL.md section 8).

Seed masks (PHEW random walks, uniform random), PathGrow's path scores, proportional sampling without
replacement, growth, global magnitude pruning, drop-and-regrow at a fixed density (RigL, SET), ERK layer
densities and the FLOPs of a masked network. Everything acts on a MaskedNet through its connection masks
(MaskedNet.set_connection_mask); a layer without a mask is dense. The sparse layers are every conv and linear
weight of the model, the first and the head included (normalisation layers and biases stay dense).
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.utils import _pair

from plasticity.models import MaskedNet


def sparse_layers(model: MaskedNet) -> dict[str, nn.Module]:
    """Name -> the module whose `weight` a connection mask covers, in forward order."""
    return {layer.name: layer.module for layer in model.weight_layers() if layer.owner is not None}


def current_masks(model: MaskedNet) -> dict[str, torch.Tensor]:
    """The 0/1 connection mask of every sparse layer (all ones for a dense one)."""
    owners = model.connection_layers()
    return {name: (owners[name].weight_mask.detach().clone() if owners[name].weight_mask is not None
                   else torch.ones_like(module.weight)) for name, module in sparse_layers(model).items()}


def present_counts(model: MaskedNet) -> dict[str, int]:
    """Present connections of every sparse layer, read without copying a mask (once per training step)."""
    owners = model.connection_layers()
    return {name: int(owners[name].weight_mask.sum()) if owners[name].weight_mask is not None
            else module.weight.numel() for name, module in sparse_layers(model).items()}


def set_masks(model: MaskedNet, masks: dict[str, torch.Tensor]) -> None:
    for name, mask in masks.items():
        model.set_connection_mask(name, mask)


def density(masks: dict[str, torch.Tensor]) -> float:
    """Present connections over all connections of the sparse layers."""
    return sum(float(mask.sum()) for mask in masks.values()) / sum(mask.numel() for mask in masks.values())


def path_scores(model: MaskedNet, masks: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """PathGrow's score of every connection of every sparse layer, in float64.

    For connection i -> j of a layer: (path mass reaching i from the inputs) x (path mass from j to the
    outputs), a path's mass the product of |w| along it in the network masked by `masks`, with biases and
    normalisation layers left out. That is the gradient of the summed output of an all-ones input with respect
    to the connection's effective weight, so one forward and one backward pass give it for every layer.
    Max-pools become sum-pools: every input of a pooling window is a path to its output. Read it at the
    absent positions; at present ones it is the same product without the weight itself."""
    paths = copy.deepcopy(model).to(torch.float64)
    layers = sparse_layers(paths)
    with torch.no_grad():
        for module in paths.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                module.weight.abs_()  # a dense layer (ResNet-18's shortcut convs) carries |w| too
        for name, module in layers.items():
            module.weight.mul_(masks[name].to(module.weight))
        for owner in paths.connection_layers().values():
            owner.weight_mask = None  # the gradient must reach absent positions too
        for module in paths.modules():
            if getattr(module, "bias", None) is not None:
                module.bias.zero_()
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.reset_parameters()  # weight 1, bias 0, mean 0, variance 1
                module.eps = 0.0
    paths.eval()
    for parent in paths.modules():
        for child_name, child in parent.named_children():
            if isinstance(child, nn.MaxPool2d):
                setattr(parent, child_name, SumPool2d(child.kernel_size, child.stride))
    paths(torch.ones(1, *model.input_shape, dtype=torch.float64)).sum().backward()
    return {name: module.weight.grad.detach().clone() for name, module in layers.items()}


class SumPool2d(nn.Module):
    """A pooling window's sum: what a max-pool becomes in the path network."""

    def __init__(self, kernel_size, stride):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, self.kernel_size, self.stride) * math.prod(_pair(self.kernel_size))


def draw_proportional(scores: dict[str, torch.Tensor], candidates: dict[str, torch.Tensor], n: int,
                      generator: torch.Generator) -> dict[str, torch.Tensor]:
    """n candidate positions drawn without replacement, with probability proportional to their score, from one
    pool over all layers: successive sampling, done at once as the n smallest keys E / score with E ~ Exp(1).
    Candidates of score 0 come after every positive one, in random order. Returns a 0/1 mask per layer."""
    names = list(candidates)
    flat_scores = torch.cat([scores[name].double().flatten() for name in names])
    flat_candidates = torch.cat([candidates[name].flatten() > 0 for name in names])
    available = int(flat_candidates.sum())
    if n > available:
        raise ValueError(f"asked to draw {n} connections, only {available} are candidates")
    exponential = torch.empty(len(flat_scores), dtype=torch.float64).exponential_(generator=generator)
    positive = flat_candidates & (flat_scores > 0)
    keys = torch.full_like(flat_scores, math.inf)
    keys[positive] = exponential[positive] / flat_scores[positive]
    if positive.sum() < n:  # zero-score candidates after all positive ones, in random order
        ceiling = keys[positive].max() if positive.any() else torch.tensor(0.0, dtype=torch.float64)
        zero = flat_candidates & ~positive
        keys[zero] = ceiling + 1.0 + exponential[zero]
    chosen = torch.zeros(len(flat_scores), dtype=torch.bool)
    chosen[torch.topk(keys, n, largest=False).indices] = True
    return split_like(chosen, candidates)


def draw_top(scores: dict[str, torch.Tensor], masks: dict[str, torch.Tensor], n: int) -> dict[str, torch.Tensor]:
    """The n absent positions of largest score, from one pool over all layers (gradient growth). Returns a 0/1
    mask per layer."""
    keys = torch.cat([torch.where(masks[name].flatten() > 0, -math.inf, scores[name].flatten().double().cpu())
                      for name in masks])
    chosen = torch.zeros(len(keys), dtype=torch.bool)
    chosen[torch.topk(keys, n).indices] = True
    return split_like(chosen, masks)


def split_like(flat: torch.Tensor, like: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A flat 0/1 vector over the layers of `like` (concatenated in its order) back into one tensor per layer,
    each with its layer's shape and dtype."""
    parts = flat.split([tensor.numel() for tensor in like.values()])
    return {name: part.view_as(tensor).to(tensor.dtype) for (name, tensor), part in zip(like.items(), parts)}


def absent(masks: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {name: 1.0 - mask for name, mask in masks.items()}


def grow(model: MaskedNet, added: dict[str, torch.Tensor], init: str, init_state: dict | None = None) -> None:
    """Add the connections `added` (0/1 per layer, absent positions only) to the model's masks. New weights
    start at zero (init "zero") or at their value in `init_state` (init "init"); present weights, and the
    optimizer state of them, are untouched. Never removes a connection."""
    if init not in ("zero", "init"):
        raise ValueError(f"unknown init of grown connections {init!r}: expected 'zero' or 'init'")
    masks = current_masks(model)
    layers = sparse_layers(model)
    for name, new in added.items():
        if bool((new * masks[name]).any()):
            raise ValueError(f"layer {name}: growth may only add absent connections")
        model.set_connection_mask(name, masks[name] + new)
        if init == "init":
            weight = layers[name].weight
            with torch.no_grad():
                weight.add_(init_state[f"{prefix_of(model, name)}weight"].to(weight) * new.to(weight))


def prefix_of(model: MaskedNet, name: str) -> str:
    """The state_dict prefix of sparse layer `name`'s weight module."""
    module = sparse_layers(model)[name]
    for prefix, candidate in model.named_modules():
        if candidate is module:
            return f"{prefix}." if prefix else ""
    raise KeyError(name)


def magnitude_prune(model: MaskedNet, masks: dict[str, torch.Tensor], n: int) -> dict[str, torch.Tensor]:
    """Global magnitude pruning: the n present weights of smallest |w|, over all sparse layers at once, are
    removed. Returns the new masks."""
    layers = sparse_layers(model)
    magnitudes = torch.cat([(layers[name].weight.detach().abs() * masks[name]).flatten() for name in masks])
    present = torch.cat([masks[name].flatten() > 0 for name in masks])
    keys = torch.where(present, magnitudes, torch.full_like(magnitudes, math.inf))
    kept = present.clone()
    kept[torch.topk(keys, n, largest=False).indices] = False
    return split_like(kept, masks)


def drop_and_regrow(model: MaskedNet, masks: dict[str, torch.Tensor], fraction: float, regrow_scores: dict | None,
                    generator: torch.Generator) -> dict[str, torch.Tensor]:
    """One RigL/SET update per layer at a fixed density: drop the round(fraction x present) present weights of
    smallest |w|, regrow as many absent ones, by largest `regrow_scores` (RigL: |gradient|) or, with None,
    uniformly at random (SET). A connection dropped in this update is not regrown in it."""
    layers = sparse_layers(model)
    updated = {}
    for name, mask in masks.items():
        flat = mask.flatten() > 0
        n = round(fraction * int(flat.sum()))
        magnitude = layers[name].weight.detach().abs().flatten()
        drop = torch.topk(torch.where(flat, magnitude, torch.full_like(magnitude, math.inf)), n, largest=False).indices
        kept = flat.clone()
        kept[drop] = False
        pool = ~flat  # absent before this update
        if regrow_scores is None:
            keys = torch.rand(len(flat), generator=generator, dtype=torch.float64)
        else:
            keys = regrow_scores[name].detach().abs().flatten().double()
        keys = torch.where(pool, keys, torch.full_like(keys, -math.inf))
        regrow = torch.topk(keys, n).indices
        kept[regrow] = True
        updated[name] = kept.view_as(mask).to(mask.dtype)
    return updated


def erk_densities(model: MaskedNet, target: float) -> dict[str, float]:
    """Erdos-Renyi-Kernel layer densities of RigL: density_l proportional to sum(shape_l) / prod(shape_l), scaled
    so that the whole network has density `target`; a layer that would exceed 1 is dense and the rest rescale."""
    shapes = {name: tuple(module.weight.shape) for name, module in sparse_layers(model).items()}
    sizes = {name: math.prod(shape) for name, shape in shapes.items()}
    raw = {name: sum(shape) / sizes[name] for name, shape in shapes.items()}
    dense: set[str] = set()
    while True:
        budget = target * sum(sizes.values()) - sum(sizes[name] for name in dense)
        scale = budget / sum(raw[name] * sizes[name] for name in shapes if name not in dense)
        over = {name for name in shapes if name not in dense and raw[name] * scale > 1}
        if not over:
            return {name: 1.0 if name in dense else raw[name] * scale for name in shapes}
        dense |= over


def random_masks(model: MaskedNet, densities: dict[str, float], generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Per layer, round(density x size) connections chosen uniformly at random."""
    masks = {}
    for name, module in sparse_layers(model).items():
        weight = module.weight
        n = round(densities[name] * weight.numel())
        mask = torch.zeros(weight.numel())
        mask[torch.randperm(weight.numel(), generator=generator)[:n]] = 1.0
        masks[name] = mask.view_as(weight)
    return masks


def layer_positions(model: MaskedNet) -> dict[str, int]:
    """Output positions at which each sparse layer applies its weight to one input: the output's height x width
    for a conv (measured with one forward pass), 1 for a linear layer."""
    layers = sparse_layers(model)
    positions = {name: 1 for name in layers}
    hooks = [module.register_forward_hook(
        lambda module, _, output, name=name: positions.__setitem__(name, math.prod(output.shape[2:])))
        for name, module in layers.items() if isinstance(module, nn.Conv2d)]
    try:
        training = model.training
        with torch.no_grad():
            model.eval()(torch.zeros(1, *model.input_shape, device=next(model.parameters()).device))
        model.train(training)
    finally:
        for hook in hooks:
            hook.remove()
    return positions


def forward_flops(positions: dict[str, int], counts: dict[str, int]) -> float:
    """FLOPs of one example's forward pass through the weight layers (2 per multiply-add; normalisation,
    activations, pools and biases left out): each of a layer's `counts` present connections is applied at each
    of its output `positions` (layer_positions)."""
    return 2.0 * sum(counts[name] * positions[name] for name in counts)


def step_flops(positions: dict[str, int], counts: dict[str, int]) -> float:
    """FLOPs of one example's training step: forward, and a backward of twice the forward (the gradients of the
    inputs and of the weights), the convention of RigL's cost accounting."""
    return 3.0 * forward_flops(positions, counts)


def dense_counts(model: MaskedNet) -> dict[str, int]:
    return {name: module.weight.numel() for name, module in sparse_layers(model).items()}


def walk_views(model: MaskedNet) -> list[tuple[str, torch.Tensor]]:
    """Each sparse layer's weight as (out units, in units, positions), the graph a PHEW walk hops through: a
    conv's units are its channels (positions: the kernel's), the linear layer after a conv trunk groups its
    inputs by the trunk's output channel (positions: that channel's pixels), a linear layer's units are its
    features."""
    views, previous_out, previous_conv = [], None, False
    for name, module in sparse_layers(model).items():
        weight = module.weight.detach()
        if weight.dim() == 4:
            view = weight.flatten(2)
        elif previous_conv:
            view = weight.view(weight.shape[0], previous_out, weight.shape[1] // previous_out)
        else:
            view = weight.unsqueeze(2)
        views.append((name, view))
        previous_out, previous_conv = weight.shape[0], weight.dim() == 4
    return views


def walk(magnitudes: list[torch.Tensor], level: int, unit: int,
         generator: torch.Generator) -> list[tuple[int, int, int, int]]:
    """One PHEW walk through `unit` of `level` (0: the inputs, len(magnitudes): the outputs): back to the
    inputs, then on to the outputs, each hop drawn in proportion to |w| over the next units and positions
    (uniformly where they are all 0). Returns its weights as (layer, out unit, in unit, position)."""
    hops = []
    x = unit
    for layer in range(level - 1, -1, -1):
        u, position = _hop(magnitudes[layer][x], generator)
        hops.append((layer, x, u, position))
        x = u
    x = unit
    for layer in range(level, len(magnitudes)):
        v, position = _hop(magnitudes[layer][:, x], generator)
        hops.append((layer, v, x, position))
        x = v
    return hops


def _hop(weights: torch.Tensor, generator: torch.Generator) -> tuple[int, int]:
    """(unit, position) drawn from a (units, positions) slice in proportion to its entries."""
    flat = weights.flatten()
    if flat.sum() <= 0:
        flat = torch.ones_like(flat)
    return divmod(int(torch.multinomial(flat, 1, generator=generator)), weights.shape[1])


def phew_masks(model: MaskedNet, target: float, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """PHEW's seed mask: random walks whose hops are drawn in proportion to |initial weight| (within a conv's
    kernel, the position too), each walk enabling one weight per layer. Walks alternate between forward walks
    from the input units and backward walks from the output units, each side round-robin, until the network
    has density `target` and every input and output unit has started one; then a walk through every unit
    left with no incoming or no outgoing connection, so no unit is cut off (the density rises above `target`
    when that needs more walks: PROTOCOL.md section 8)."""
    views = walk_views(model)
    chosen = [torch.zeros_like(view, dtype=torch.bool) for _, view in views]
    magnitudes = [view.abs().double() for _, view in views]
    total = sum(view.numel() for _, view in views)
    present = 0

    def walk_through(level: int, unit: int) -> None:
        nonlocal present
        for layer, out_unit, in_unit, position in walk(magnitudes, level, unit, generator):
            present += not chosen[layer][out_unit, in_unit, position]
            chosen[layer][out_unit, in_unit, position] = True

    inputs, outputs = magnitudes[0].shape[1], magnitudes[-1].shape[0]
    walks = 0
    while present < target * total or walks < 2 * max(inputs, outputs):
        if walks % 2 == 0:
            walk_through(0, (walks // 2) % inputs)
        else:
            walk_through(len(views), (walks // 2) % outputs)
        walks += 1
    for level in range(1, len(views)):
        for unit in range(magnitudes[level].shape[1]):
            if not (chosen[level - 1][unit].any() and chosen[level][:, unit].any()):
                walk_through(level, unit)
    layers = sparse_layers(model)
    return {name: mask.view_as(layers[name].weight).to(layers[name].weight.dtype)
            for (name, _), mask in zip(views, chosen)}
