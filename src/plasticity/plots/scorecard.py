"""Scorecard figures: ours against the published numbers, per table; every protocol reading beside the published band."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from plasticity.plots import METHOD_COLORS
from plasticity.readings import READING_METRICS
from plasticity.scorecard import DIFFERENT, OVERLAP, STAND_IN, WITHIN
from plasticity.tables import method_label

VERDICT_COLORS = {WITHIN: "#009E73", OVERLAP: "#E69F00", DIFFERENT: "#D55E00", STAND_IN: "#777777"}


def scorecard_figure(card: pd.DataFrame, title: str) -> Figure:
    """One panel per published table with any of our numbers: ours (y) against published (x), both 95% CIs as
    error bars, the identity line, points coloured by verdict. Welch p-values are left out (a different scale)."""
    shown = card[card["ours_mean"].notna() & (card["metric"] != "welch_p") & card["published_mean"].notna()]
    shown = shown.assign(name=shown["paper"] + " " + shown["table"])
    tables = list(dict.fromkeys(shown["name"])) or ["(none)"]
    columns = min(3, len(tables))
    rows = math.ceil(len(tables) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.6 * columns, 4.2 * rows), layout="constrained", squeeze=False)
    for ax, name in zip(axes.flat, tables):
        frame = shown[shown["name"] == name]
        for verdict, group in frame.groupby("verdict"):
            ax.errorbar(group["published_mean"], group["ours_mean"], xerr=np.nan_to_num(group["published_ci"]),
                        yerr=np.nan_to_num(group["ours_ci"]), fmt="o", markersize=3.5, linewidth=0.8, capsize=1.5,
                        color=VERDICT_COLORS.get(verdict, "0.5"), alpha=0.85)
        values = pd.concat([frame["published_mean"], frame["ours_mean"]])
        low, high = (values.min(), values.max()) if len(values) else (0, 1)
        pad = 0.05 * (high - low or 1)
        ax.plot([low - pad, high + pad], [low - pad, high + pad], color="0.3", linewidth=0.8, linestyle="--")
        ax.set_xlim(low - pad, high + pad)
        ax.set_ylim(low - pad, high + pad)
        ax.set_title(f"{name} ({len(frame)} numbers)", loc="left", fontsize=10)
        ax.set_xlabel("published (%)")
        ax.set_ylabel("ours (%)")
        ax.grid(color="0.92", linewidth=0.6)
        ax.spines[["top", "right"]].set_visible(False)
    for ax in axes.flat[len(tables):]:
        ax.set_visible(False)
    handles = [Line2D([], [], marker="o", linestyle="none", color=color, label=verdict)
               for verdict, color in VERDICT_COLORS.items()]
    handles.append(Line2D([], [], color="0.3", linestyle="--", label="ours = published"))
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), frameon=False, fontsize=9)
    fig.suptitle(f"{title}: ours against published, mean ± 95% CI (the paper's ± where it prints one)", fontsize=11)
    return fig


def readings_figure(tidy: pd.DataFrame, per_seed: pd.DataFrame, title: str) -> Figure:
    """Rows: every (reading, method); panels: WT Final, WT TAA (every epoch), Delta ACC. Our seeds as light points,
    mean ± 95% CI, and the published value of the method (band: its ± where printed) on each row."""
    panels = ["wt_acc", "wt_taa_epochs", "delta_acc"]
    labels = tidy.drop_duplicates(["setting", "method"])[["setting", "reading", "method"]].reset_index(drop=True)
    fig, axes = plt.subplots(1, len(panels), figsize=(13, 0.42 * len(labels) + 1.8), sharey=True,
                             layout="constrained")
    for ax, metric in zip(axes, panels):
        for y, row in labels.iterrows():
            color = METHOD_COLORS.get(row["method"], "0.3")
            cell = tidy[(tidy["setting"] == row["setting"]) & (tidy["method"] == row["method"]) &
                        (tidy["metric"] == metric)].iloc[0]
            if not pd.isna(cell["published_mean"]):
                ci = 0 if pd.isna(cell["published_ci"]) else cell["published_ci"]
                ax.fill_betweenx([y - 0.38, y + 0.38], cell["published_mean"] - ci, cell["published_mean"] + ci,
                                 color=color, alpha=0.15, linewidth=0)
                ax.plot([cell["published_mean"]] * 2, [y - 0.38, y + 0.38], color=color, linewidth=1.6)
            seeds = per_seed[(per_seed["setting"] == row["setting"]) & (per_seed["method"] == row["method"])][metric]
            ax.scatter(seeds, np.full(len(seeds), y), s=9, color=color, alpha=0.35, linewidths=0)
            ax.errorbar(cell["mean"], y, xerr=0 if pd.isna(cell["ci"]) else cell["ci"], fmt="o", color=color,
                        markersize=5, capsize=2.5)
        ax.set_title(READING_METRICS[metric] + (" (%)" if metric != "delta_acc" else " = WT − Cycle (points)"),
                     loc="left", fontsize=10)
        ax.grid(axis="x", color="0.92", linewidth=0.6)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_yticks(range(len(labels)))
    axes[0].set_yticklabels([f"{row.reading} · {method_label(row.method)}" for row in labels.itertuples()], fontsize=8)
    axes[0].invert_yaxis()
    handles = [Line2D([], [], color="0.3", linewidth=1.6, label="published (band: its ±)"),
               Line2D([], [], color="0.3", marker="o", linestyle="none", label="ours: mean ± 95% CI"),
               Line2D([], [], color="0.3", marker="o", markersize=3, alpha=0.4, linestyle="none", label="ours: seeds")]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False, fontsize=9)
    fig.suptitle(title, fontsize=11)
    return fig
