"""SWR study figures: test accuracy and per-layer weight norms over training, one line per regulariser.

Each regulariser is shown at its selected lambda (plasticity.swr.select_strengths: best mean final
validation accuracy); lines are the mean ± 95% t-interval over seeds.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from plasticity.hooks import REGULARIZERS
from plasticity.metrics import RUN_KEY
from plasticity.plots import mean_ci_line
from plasticity.swr import REGULARIZER_LABELS, select_strengths

REGULARIZER_STYLES = {name: {"color": entry.color, "linestyle": entry.linestyle} for name, entry in REGULARIZERS.items()}


def _label(run: pd.Series) -> str:
    kind = run["regularizer.kind"]
    label = REGULARIZER_LABELS[kind]
    if kind in ("swr", "swr_reinit"):
        return f"{label} (λ = {run['regularizer.strength']:g}, classifier {run['regularizer.head_strength']:g})"
    if kind in ("none", "head_reset"):
        return label
    return f"{label} (λ = {run['regularizer.strength']:g})"


def _selected(table: pd.DataFrame, runs: pd.DataFrame, figure: str) -> pd.DataFrame:
    """Rows of `table` (epochs or norms) from the selected runs of one base setting, with their regulariser."""
    base = sorted(runs["base_setting"].unique())
    if len(base) != 1:
        raise ValueError(f"{figure}: expected the runs of one base setting, got {base}")
    selected = select_strengths(runs)
    selected = selected.assign(label=selected.apply(_label, axis=1))
    return table.merge(selected[RUN_KEY + ["regularizer.kind", "label"]], on=RUN_KEY, validate="many_to_one")


def _data_changes(ax: Axes, epochs: pd.DataFrame) -> None:
    """Dotted vertical lines where a new cycle (a data change) starts."""
    starts = epochs.groupby("cycle")["epoch"].min().sort_index().iloc[1:] - 1
    for epoch in starts:
        ax.axvline(epoch, color="0.6", linestyle=":", linewidth=0.9, zorder=0)


def _style(ax: Axes, xlabel: str, ylabel: str) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(color="0.92", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)


def _lines(ax: Axes, table: pd.DataFrame, y: str, limits: tuple[float, float]) -> None:
    for kind, style in REGULARIZER_STYLES.items():
        rows = table[table["regularizer.kind"] == kind]
        if len(rows):
            mean_ci_line(ax, rows, "epoch", y, label=rows["label"].iloc[0], limits=limits, **style)


def accuracy_curves_figure(epochs: pd.DataFrame, runs: pd.DataFrame, title: str) -> Figure:
    """Test accuracy after every epoch, per regulariser; dotted lines mark the data changes."""
    table = _selected(epochs[epochs["phase"] == "cycle"], runs, "accuracy_curves_figure")
    table = table.assign(test_acc=100 * table["test_acc"])
    fig, ax = plt.subplots(figsize=(8, 4.6), layout="constrained")
    _lines(ax, table, "test_acc", limits=(0, 100))
    _data_changes(ax, table)
    _style(ax, "Epoch", "Test accuracy (%)")
    fig.legend(loc="outside right center", frameon=False, fontsize=9)
    fig.suptitle(f"{title}: test accuracy\n(n = {table['seed'].nunique()} seeds; mean ± 95% CI; "
                 "each regulariser at its best validation lambda)", fontsize=12)
    return fig


def weight_norms_figure(norms: pd.DataFrame, epochs: pd.DataFrame, runs: pd.DataFrame, title: str) -> Figure:
    """Frobenius norm of each weight layer (one panel each, forward order) after every epoch (epoch 0: the
    initialisation), per regulariser; `epochs` (of the same runs) places the data changes."""
    table = _selected(norms, runs, "weight_norms_figure")
    layers = list(dict.fromkeys(table.sort_values(["seed", "epoch"])["layer"]))  # forward order, as recorded
    columns = min(len(layers), 4)
    rows = -(-len(layers) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 3.2 * rows + 1), layout="constrained",
                             squeeze=False)
    for ax, layer in zip(axes.flat, layers):
        _lines(ax, table[table["layer"] == layer], "weight_norm", limits=(0, float("inf")))
        _data_changes(ax, epochs)
        ax.set_title(layer, loc="left", fontsize=11)
        _style(ax, "Epoch", "‖W‖_F" if ax in axes[:, 0] else "")
    for ax in axes.flat[len(layers):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, frameon=False, fontsize=9)
    fig.suptitle(f"{title}: weight norm per layer\n(n = {table['seed'].nunique()} seeds; mean ± 95% CI; "
                 "each regulariser at its best validation lambda)", fontsize=12)
    return fig
