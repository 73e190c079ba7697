"""GCG study figures: accuracy against final density and against training cost per method, and the stopping
rule's fit of each growth run that it stopped."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from plasticity.gcg import gcg_runs
from plasticity.hooks import GROWTH_METHODS, METHODS
from plasticity.plots import METHOD_COLORS
from plasticity.stats import mean_ci
from plasticity.stopping import fit_logistic, logistic
from plasticity.tables import method_label


def _interval(values: np.ndarray, low: float, high: float) -> tuple[float, float, float]:
    """Mean and the distances down and up to its 95% t-interval, clipped to what the quantity can take (a
    t-interval of 2 seeds can reach far below 0%)."""
    mean, ci = mean_ci(values)
    ci = 0.0 if np.isnan(ci) else ci
    return mean, mean - max(mean - ci, low), min(mean + ci, high) - mean


def _accuracy_against(epochs: pd.DataFrame, x: str, xlabel: str, title: str, log_x: bool) -> Figure:
    """Per method and target density c: mean accuracy against mean `x`, both with 95% CIs over seeds; growth
    runs that the stopping rule ended (c = 100) are stars at the density they stopped at."""
    runs = gcg_runs(epochs)
    x_high = 1.0 if x == "density" else np.inf
    fig, ax = plt.subplots(figsize=(7.6, 4.4))
    for method in [m for m in METHODS if m in set(runs["method"])]:
        frame = runs[runs["method"] == method]
        points = [(c, *_interval(group[x].to_numpy(), 0.0, x_high), *_interval(100 * group["acc"].to_numpy(), 0, 100))
                  for c, group in frame.groupby("c")]
        stopped = [p for p in points if p[0] == 100 and method in GROWTH_METHODS]
        for series, marker, label in ((stopped, "*", f"{method_label(method)}: where the rule stopped"),
                                      ([p for p in points if p not in stopped], "o", method_label(method))):
            if not series:
                continue
            _, mx, x_down, x_up, my, y_down, y_up = map(np.array, zip(*series))
            ax.errorbar(mx, my, xerr=[x_down, x_up], yerr=[y_down, y_up], marker=marker,
                        markersize=11 if marker == "*" else 5, color=METHOD_COLORS[method], capsize=2.5,
                        linewidth=1.2, linestyle="none" if marker == "*" else METHODS[method].linestyle, label=label)
    if log_x:
        ax.set_xscale("log")
    ax.set(xlabel=xlabel, ylabel="test accuracy (%)", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, frameon=False, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig


def accuracy_density_figure(epochs: pd.DataFrame, title: str) -> Figure:
    return _accuracy_against(epochs, "density", "final density (fraction of connections)", title, log_x=True)


def accuracy_cost_figure(epochs: pd.DataFrame, title: str) -> Figure:
    return _accuracy_against(epochs, "cost", "training cost (x one dense training, FLOPs)", title, log_x=False)


def stopping_figure(epochs: pd.DataFrame, title: str) -> Figure:
    """One panel per growth method and seed of the c = 100 runs: validation accuracy after each growth stage
    against density, the logistic fitted to the stages up to the stop, and the density it stopped at."""
    growth = epochs[(epochs["phase"] == "growth") & (epochs["c"] == 100) & epochs["stage_end"].fillna(False).astype(bool)]
    panels = list(growth.groupby(["method", "seed"]))
    columns = max(1, min(5, len(panels)))
    rows = max(1, int(np.ceil(len(panels) / columns)))
    fig, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.3 * rows), squeeze=False, sharey=True)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    if not panels:
        fig.text(0.5, 0.5, "no growth run at c = 100", ha="center", va="center")
    for ax, ((method, seed), stages) in zip(axes.flat, panels):
        stages = stages.sort_values("epoch")
        color = METHOD_COLORS[method]
        ax.plot(stages["density"], 100 * stages["val_acc"], "o", color=color, markersize=3.5)
        parameters = fit_logistic(stages["density"], stages["val_acc"]) if len(stages) >= 4 else None
        if parameters is not None:
            grid = np.logspace(np.log10(stages["density"].min()), 0, 100)
            ax.plot(grid, 100 * logistic(np.log10(grid), *parameters), color=color, linewidth=1)
        reason = stages["stop_reason"].fillna("").iloc[-1]
        ax.axvline(stages["density"].iloc[-1], color="0.4", linestyle=":", linewidth=1)
        ax.set_xscale("log")
        ax.set_ylim(0, 100)
        ax.set_title(f"{method_label(method)}, seed {seed}: {reason or 'budget'}", fontsize=8)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("density")
    for ax in axes[:, 0]:
        ax.set_ylabel("validation accuracy (%)")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
