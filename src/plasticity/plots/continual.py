"""[SP] Section 6 figures: average accuracy and Early-task TAA by method and c per benchmark (Figures 5 and 17), the
RSL - ReLU deltas of the activation control (Figure 14), and the online accuracy over a stream's tasks."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from plasticity.continual import METHOD_ORDER, METRIC_LABELS, VARIANT_ORDER, selected_runs
from plasticity.metrics import DENSE_TRAINING_C, RUN_KEY
from plasticity.plots import METHOD_COLORS, mean_ci_line
from plasticity.stats import mean_ci
from plasticity.tables import method_label

# A variant keeps its method's colour and takes a marker of its own; Dense, Prune and Grow are circles.
VARIANT_MARKERS = {"none": "o", "rsl": "D", "two_speed": "^", "transplant": "v", "gradmax": "s", "net2wider": "P"}
VARIANT_LINESTYLES = {"none": "-", "rsl": "--", "two_speed": "-.", "transplant": ":", "gradmax": (0, (5, 1)),
                      "net2wider": (0, (1, 1, 3, 1))}
PANEL_COLUMNS = 3
SEED_JITTER = 0.3  # of a series' slot


def _panels(count: int, height: float = 3.0) -> tuple[Figure, list]:
    columns = min(PANEL_COLUMNS, count)
    rows = math.ceil(count / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.6 * columns, height * rows), squeeze=False)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:count])


def _style(ax, xlabel: str, ylabel: str) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(color="0.92", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)


def _series_order(frame: pd.DataFrame) -> list[tuple[str, str, str]]:
    series = frame[["method", "variant", "method_name"]].drop_duplicates()
    return sorted(series.itertuples(index=False, name=None),
                  key=lambda s: (METHOD_ORDER.index(s[0]), VARIANT_ORDER.index(s[1])))


def metric_figure(runs: pd.DataFrame, metric: str, titles: dict[str, str], title: str) -> Figure:
    """One panel per benchmark: `metric` (avg_acc or early_taa) of each method and variant at each c, at its
    selected LR: seeds as light points, mean and 95% CI; Dense (the full network) as a line with its band."""
    chosen = selected_runs(runs)
    benchmarks = sorted(chosen["base_setting"].unique())
    fig, axes = _panels(len(benchmarks))
    rng = np.random.default_rng(0)
    for ax, benchmark in zip(axes, benchmarks):
        frame = chosen[chosen["base_setting"] == benchmark]
        levels = sorted(frame.loc[frame["c"] != DENSE_TRAINING_C, "c"].unique())
        step = min(np.diff(levels)) if len(levels) > 1 else 10.0
        series = [s for s in _series_order(frame) if s[0] != "dense"]
        slot = 0.8 * step / max(1, len(series))
        for method, variant, name in _series_order(frame):
            rows = frame[(frame["method"] == method) & (frame["variant"] == variant)]
            color = METHOD_COLORS[method]
            if method == "dense":
                mean, ci = mean_ci(100 * rows[metric].to_numpy())
                ax.axhline(mean, color=color, linestyle=VARIANT_LINESTYLES[variant], linewidth=1.1, label=name)
                if not math.isnan(ci):
                    ax.axhspan(mean - ci, mean + ci, color=color, alpha=0.08, linewidth=0)
                continue
            offset = (series.index((method, variant, name)) - (len(series) - 1) / 2) * slot
            for c in levels:
                values = 100 * rows.loc[rows["c"] == c, metric].to_numpy()
                if len(values) == 0:
                    continue
                ax.scatter(c + offset + rng.uniform(-SEED_JITTER, SEED_JITTER, len(values)) * slot, values, s=8,
                           color=color, alpha=0.3, linewidths=0)
                mean, ci = mean_ci(values)
                ax.errorbar(c + offset, mean, yerr=0 if math.isnan(ci) else ci, color=color,
                            marker=VARIANT_MARKERS[variant], markersize=5, capsize=2, linewidth=1.2,
                            label=name if c == levels[0] else None)
        ax.set_xticks(levels)
        low, high = ax.get_ylim()
        ax.set_ylim(max(low, 0), min(high, 100))  # a t-interval of a few seeds can reach past what accuracy can be
        ax.set_title(titles[benchmark], fontsize=9)
        _style(ax, "compactness c (%)", f"{METRIC_LABELS[metric]} (%)")
    handles, labels = axes[0].get_legend_handles_labels()
    for ax in axes[1:]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    fig.legend(handles, labels, loc="lower center", ncol=min(5, len(labels)), frameon=False, fontsize=8,
               bbox_to_anchor=(0.5, -0.02 - 0.03 * math.ceil(len(labels) / 5)))
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def delta_figure(deltas: pd.DataFrame, titles: dict[str, str], title: str) -> Figure:
    """One panel per benchmark: RSL - ReLU of its headline metric per method (Dense at c = 100) and c, with the
    combined 95% half-width as error bars."""
    benchmarks = sorted(deltas["base_setting"].unique())
    fig, axes = _panels(len(benchmarks), height=2.8)
    for ax, benchmark in zip(axes, benchmarks):
        frame = deltas[deltas["base_setting"] == benchmark]
        positions = []
        for method in METHOD_ORDER:
            for row in frame[frame["method"] == method].sort_values("c").itertuples():
                x = len(positions)
                label = method_label(method) if row.c == DENSE_TRAINING_C else f"{method_label(method)} {row.c}"
                positions.append(label)
                ax.bar(x, 100 * row.delta, yerr=0 if math.isnan(row.ci) else 100 * row.ci, color=METHOD_COLORS[method],
                       alpha=0.85, capsize=2)
        ax.axhline(0, color="0.3", linewidth=0.8)
        ax.set_xticks(range(len(positions)), positions, rotation=45, ha="right", fontsize=7)
        metric = frame["metric"].iloc[0]
        ax.set_title(titles[benchmark], fontsize=9)
        _style(ax, "", f"RSL − ReLU, {METRIC_LABELS.get(metric, metric.replace('_', ' '))} (points)")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def online_curves(tasks: pd.DataFrame, runs: pd.DataFrame, title: str) -> Figure:
    """One panel per c: the online accuracy of each task (its batches before their updates) over the stream, per
    method and variant at its selected LR; mean and 95% CI over seeds. Dense (c = 100) is drawn in every panel."""
    chosen = selected_runs(runs)
    rows = tasks.merge(chosen[RUN_KEY + ["method_name", "variant"]], on=RUN_KEY)
    levels = sorted(rows.loc[rows["c"] != DENSE_TRAINING_C, "c"].unique()) or [DENSE_TRAINING_C]
    fig, axes = _panels(len(levels), height=3.2)
    for ax, c in zip(axes, levels):
        shown = rows[(rows["c"] == c) | (rows["method"] == "dense")]
        for method, variant, name in _series_order(shown):
            series = shown[(shown["method"] == method) & (shown["variant"] == variant)]
            series = series.assign(online_pct=100 * series["online_acc"])
            mean_ci_line(ax, series, "task", "online_pct", limits=(0, 100), color=METHOD_COLORS[method],
                         linestyle=VARIANT_LINESTYLES[variant], label=name)
        ax.set_title(f"c = {c}%" if c != DENSE_TRAINING_C else "Dense", fontsize=9)
        _style(ax, "task", "online accuracy (%)")
        ax.legend(fontsize=7, frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
