"""Dense/Grow/Prune study figure: Cycle vs winning-ticket (WT) accuracy against compactness, per benchmark."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from plasticity.metrics import DENSE_TRAINING_C
from plasticity.plots import METHOD_COLORS
from plasticity.stats import mean_ci
from plasticity.tables import method_label

PHASE_STYLES = {  # Cycle: solid line, filled circles; WT: dashed line, open squares
    "cycle": {"label": "Cycle (end of training)", "linestyle": "-", "marker": "o", "filled": True},
    "wt": {"label": "Winning ticket (WT)", "linestyle": "--", "marker": "s", "filled": False},
}
DELTA_STYLES = {
    "acc": {"label": "ΔACC", "linestyle": "-", "marker": "^"},
    "taa": {"label": "ΔTAA", "linestyle": ":", "marker": "v"},
}
SEED_JITTER = 0.25  # fraction of a series' slot width; keeps seed points off each other
PANEL_WIDTH = 0.7  # fraction of the gap between compactness levels shared by the series at one c


def _series(ax: Axes, frame: pd.DataFrame, column: str, x_offset: float, slot: float, rng: np.random.Generator,
            color: str, marker: str, linestyle: str, filled: bool = True) -> None:
    """Seeds as small jittered points, mean with 95% CI error bars at each compactness level."""
    levels = sorted(frame["c"].unique())
    values = [100 * frame.loc[frame["c"] == c, column].to_numpy() for c in levels]
    for c, seed_values in zip(levels, values):
        jitter = rng.uniform(-SEED_JITTER, SEED_JITTER, len(seed_values)) * slot
        ax.scatter(c + x_offset + jitter, seed_values, s=9, color=color, alpha=0.35, linewidths=0, zorder=2)
    means, cis = zip(*(mean_ci(v) for v in values))
    ax.errorbar(np.array(levels) + x_offset, means, yerr=np.nan_to_num(cis), color=color, marker=marker,
                markerfacecolor=color if filled else "white", markersize=5, linestyle=linestyle,
                linewidth=1.4, capsize=2.5, zorder=3)


def _offsets(n_series: int, step: float) -> tuple[np.ndarray, float]:
    slot = PANEL_WIDTH * step / n_series
    return (np.arange(n_series) - (n_series - 1) / 2) * slot, slot


def _metric_panel(ax: Axes, data: pd.DataFrame, full_dense: pd.DataFrame, metric: str, step: float,
                  rng: np.random.Generator, methods: list[str]) -> None:
    # Dense trains once with every unit, so its cycle value is one c-independent reference.
    if len(full_dense):
        reference, ci = mean_ci(100 * full_dense[f"cycle_{metric}"].to_numpy())
        color = METHOD_COLORS["dense"]
        ax.axhline(reference, color=color, linewidth=1.2, zorder=1)
        if not np.isnan(ci):
            ax.axhspan(reference - ci, reference + ci, color=color, alpha=0.10, linewidth=0, zorder=0)

    series = [(method, phase) for method in methods for phase in (["wt"] if method == "dense" else PHASE_STYLES)]
    offsets, slot = _offsets(len(series), step)
    for (method, phase), offset in zip(series, offsets):
        style = PHASE_STYLES[phase]
        linestyle = "none" if method == "dense" else style["linestyle"]
        _series(ax, data[data["method"] == method], f"{phase}_{metric}", offset, slot, rng,
                METHOD_COLORS[method], style["marker"], linestyle, style["filled"])


def _delta_panel(ax: Axes, data: pd.DataFrame, step: float, rng: np.random.Generator, methods: list[str]) -> None:
    ax.axhline(0, color="0.4", linewidth=0.8, zorder=1)
    series = [(method, metric) for method in methods for metric in DELTA_STYLES]
    offsets, slot = _offsets(len(series), step)
    for (method, metric), offset in zip(series, offsets):
        style = DELTA_STYLES[metric]
        _series(ax, data[data["method"] == method], f"delta_{metric}", offset, slot, rng,
                METHOD_COLORS[method], style["marker"], style["linestyle"])


def _legend_handles(methods: list[str]) -> list:
    handles = [Patch(color=METHOD_COLORS[m], label=method_label(m)) for m in methods]
    handles.append(Line2D([], [], color=METHOD_COLORS["dense"], linewidth=1.2,
                          label="Dense cycle (c = 100%), band: 95% CI"))
    for style in PHASE_STYLES.values():
        handles.append(Line2D([], [], color="0.3", linestyle=style["linestyle"], marker=style["marker"],
                              markerfacecolor="0.3" if style["filled"] else "white", label=style["label"]))
    for style in DELTA_STYLES.values():
        handles.append(Line2D([], [], color="0.3", linestyle=style["linestyle"], marker=style["marker"],
                              label=f"{style['label']} = WT − Cycle"))
    handles.append(Line2D([], [], color="0.3", marker="o", markersize=3, alpha=0.5, linestyle="none",
                          label="individual seeds"))
    return handles


def cycle_vs_ticket_figure(runs: pd.DataFrame, setting: str, title: str) -> Figure:
    """Three panels for one benchmark: ACC and TAA vs compactness (Cycle vs WT), and per-seed Delta."""
    data = runs[runs["setting"] == setting]
    if data.empty:
        raise ValueError(f"cycle_vs_ticket_figure: no runs for setting {setting!r}")
    full_dense = data[(data["method"] == "dense") & (data["c"] == DENSE_TRAINING_C)]
    data = data[data["c"] != DENSE_TRAINING_C]
    levels = sorted(data["c"].unique())
    step = float(np.min(np.diff(levels))) if len(levels) > 1 else 10.0
    rng = np.random.default_rng(0)  # fixed jitter: the same table always gives the same figure

    fig, axes = plt.subplots(1, 3, figsize=(13, 4.4), layout="constrained")
    panels = [
        ("(a) Final accuracy", "ACC (%)"),
        ("(b) Time-averaged accuracy", "TAA (%)"),
        ("(c) Ticket minus cycle", "WT − Cycle (percentage points)"),
    ]
    methods = [method for method in METHOD_COLORS if method in set(data["method"])]  # the registry's order
    _metric_panel(axes[0], data, full_dense, "acc", step, rng, methods)
    _metric_panel(axes[1], data, full_dense, "taa", step, rng, methods)
    _delta_panel(axes[2], data, step, rng, methods)
    for ax, (panel_title, ylabel) in zip(axes, panels):
        ax.set_title(panel_title, loc="left", fontsize=11)
        ax.set_xlabel("Compactness c (% kept)")
        ax.set_ylabel(ylabel)
        ax.set_xticks(levels)
        ax.set_xlim(levels[0] - step / 2, levels[-1] + step / 2)
        ax.grid(axis="y", color="0.9", linewidth=0.6)
        ax.spines[["top", "right"]].set_visible(False)

    seeds = data.groupby("method")["seed"].nunique()
    n = str(seeds.min()) if seeds.min() == seeds.max() else f"{seeds.min()}–{seeds.max()}"
    fig.suptitle(f"{title}  (n = {n} seeds per point; mean ± 95% CI)", fontsize=12)
    fig.legend(handles=_legend_handles(methods), loc="outside lower center", ncol=3, frameon=False, fontsize=9)
    return fig
