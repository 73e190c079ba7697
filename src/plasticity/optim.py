"""SGD and Adam of the training core: the arithmetic of torch.optim.SGD and torch.optim.Adam on one tensor at a
time (their CPU code path), operation for operation, so results match them bit for bit (tests/test_optim.py).

Why not torch.optim itself: its first use imports torch._dynamo (`Optimizer.add_param_group` and every `step`
are wrapped for it), 1.3-1.8 s of start-up in every Snakemake job, a third of a quick job's overhead
(README, Benchmarks). The state has torch.optim's layout: `state[param]` holds `momentum_buffer` (SGD) or
`step`, `exp_avg`, `exp_avg_sq` (Adam), and `state_dict()` reads and writes torch.optim's format, so unit surgery
(plasticity.surgery) and checkpoints see no difference.
"""

from __future__ import annotations

import torch
from torch import nn


class Optimizer:
    """`params`: parameters, or torch.optim-style groups (dicts with "params" and any hyperparameter of their own,
    e.g. the core's "lr_scale"); the core's LR schedule sets every group's "lr"."""

    def __init__(self, params, **hyperparameters):
        params = list(params)
        groups = params if params and isinstance(params[0], dict) else [{"params": params}]
        self.param_groups = [{**hyperparameters, **group, "params": list(group["params"])} for group in groups]
        self.state: dict[nn.Parameter, dict] = {}

    def parameters(self) -> list[nn.Parameter]:
        return [p for group in self.param_groups for p in group["params"]]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self.update(p, p.grad, self.state.setdefault(p, {}), group)

    def update(self, param: torch.Tensor, grad: torch.Tensor, state: dict, group: dict) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict:
        index = {p: i for i, p in enumerate(self.parameters())}
        first = 0
        groups = []
        for group in self.param_groups:
            groups.append({**{k: v for k, v in group.items() if k != "params"},
                           "params": list(range(first, first + len(group["params"])))})
            first += len(group["params"])
        return {"state": {index[p]: dict(s) for p, s in self.state.items()}, "param_groups": groups}

    def load_state_dict(self, saved: dict) -> None:
        params = self.parameters()
        if len(saved["param_groups"]) != len(self.param_groups) or \
                sum(len(g["params"]) for g in saved["param_groups"]) != len(params):
            raise ValueError("the saved optimizer state is for a different set of parameters")
        for group, saved_group in zip(self.param_groups, saved["param_groups"]):
            group.update({k: v for k, v in saved_group.items() if k != "params"})
        self.state = {params[int(i)]: {k: v.to(params[int(i)].device) if torch.is_tensor(v) and k != "step" else v
                                       for k, v in s.items()} for i, s in saved["state"].items()}


class SGD(Optimizer):
    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False):
        if nesterov and momentum <= 0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        super().__init__(params, lr=lr, momentum=momentum, dampening=0.0, weight_decay=weight_decay,
                         nesterov=nesterov)

    def update(self, param, grad, state, group):
        if group["weight_decay"] != 0:
            grad = grad.add(param, alpha=group["weight_decay"])
        momentum = group["momentum"]
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.detach().clone()
            else:
                buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
            grad = grad.add(buf, alpha=momentum) if group["nesterov"] else buf
        param.add_(grad, alpha=-group["lr"])


FLOAT32_TINY = torch.finfo(torch.float32).tiny  # the smallest normal float32


class Adam(Optimizer):
    def __init__(self, params, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def update(self, param, grad, state, group):
        if not state:
            # torch.optim keeps the count as a float32 CPU tensor; so do we, for the same arithmetic and format
            state["step"] = torch.tensor(0.0, dtype=torch.float32)
            state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        beta1, beta2 = group["betas"]
        state["step"] += 1
        if group["weight_decay"] != 0:
            grad = grad.add(param, alpha=group["weight_decay"])
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        step = state["step"].item()
        step_size = group["lr"] / (1 - beta1 ** step)
        # On the CPU, sqrt of 0 (a masked unit's second moment) takes 6x the time of sqrt of a normal number: at
        # c = 20 Grow's Adam step was 1.9x Dense's (benchmarks/adam_sqrt.py). Raising values below the smallest
        # normal float first changes no bit of `denom` while eps >= 1e-10: their square roots (< 1.1e-19, < 3.5e-18
        # after the bias correction) are below half an ulp of eps, so eps + either rounds to the same float.
        root = exp_avg_sq.clamp_min(FLOAT32_TINY).sqrt_() if group["eps"] >= 1e-10 else exp_avg_sq.sqrt()
        denom = (root / (1 - beta2 ** step) ** 0.5).add_(group["eps"])
        param.addcdiv_(exp_avg, denom, value=-step_size)
