"""Newborn-diagnostics figures: cohort parities around births and prunes, and what they predict.

Every figure reads the probe and runs tables through plasticity.diagnostics. Log-parities are averaged
over the masked layers. Curves show the mean ± 95% t-interval over seeds; where a figure
pools compactness levels or events, each seed is averaged over them first, so the interval reflects
seed-to-seed variation only.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator

from plasticity.diagnostics import (
    LAYER_MEAN,
    SELECTORS,
    SNAPSHOT_KEY,
    VARIANTS,
    birth_parity,
    event_local_parity,
    intervention_runs,
    post_birth_curves,
    prune_parity,
    two_speed_grid,
    runs_by_variant,
    variant_label,
)
from plasticity.metrics import RUN_KEY
from plasticity.plots import METHOD_COLORS, mean_ci_line
from plasticity.stats import spearman
from plasticity.tables import METRIC_LABELS, method_label

# The rest of the Okabe-Ito palette, for methods without a colour of their own (interventions).
EXTRA_COLORS = ["#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#F0E442", "#999999"]
SELECTOR_COLORS = {"activation": METHOD_COLORS["grow"], "gradient": "#009E73"}
SWR_GROW_COLORS = {"none": METHOD_COLORS["grow"], "swr": "#009E73"}
VARIANT_COLORS = {"dense": METHOD_COLORS["dense"], "prune": METHOD_COLORS["prune"], "grow": METHOD_COLORS["grow"],
                  "grow_momentum": "#E69F00", "two_speed": "#009E73", "transplant": "#CC79A7", "net2wider": "#56B4E9",
                  "gradmax": "#8C6D1F", "rsl": "#7F3C8D"}
RSL_COLORS = {"relu": METHOD_COLORS["grow"], "rsl": VARIANT_COLORS["rsl"]}
SIGNAL_LABELS = {"act": "activity (forward)", "grad": "gradient (backward)"}
SIGNAL_STYLES = {"act": {"linestyle": "-", "marker": "o"}, "grad": {"linestyle": "--", "marker": "s"}}
EVENT_STYLES = {  # the cohorts A / B an event compares, and the snapshot they are read at
    "birth": {"label": "newborn / incumbent at Post", "marker": "o"},
    "prune": {"label": "pruned / kept at Exit", "marker": "^"},
}
STARVED_COLOR = "#CC79A7"  # shades the forward-active, backward-starved quadrant
COMPACTNESS_MARKERS = ["o", "s", "^", "D", "v", "P"]
EVENT_OFFSET = 0.06  # horizontal spread of series that share an integer x (cycle boundary), in x units


def _method_colors(methods) -> dict[str, str]:
    extra = iter(EXTRA_COLORS)
    return {m: METHOD_COLORS[m] if m in METHOD_COLORS else next(extra) for m in sorted(methods)}


def _sequential_colors(values) -> dict:
    """An ordered, colour-blind-safe colour per value (viridis, its pale yellow end left out)."""
    values = sorted(values)
    return dict(zip(values, plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(values)))))


def _seed_means(table: pd.DataFrame, by: list[str], column: str) -> pd.DataFrame:
    """Each seed's mean of `column` over everything not in `by` (events, compactness levels, ages)."""
    return table.groupby(by + ["seed"], as_index=False)[column].mean()


def _offsets(n_series: int) -> np.ndarray:
    return (np.arange(n_series) - (n_series - 1) / 2) * EVENT_OFFSET


def _style_axes(ax: Axes, xlabel: str, ylabel: str) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(color="0.92", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)


def _age_axis(ax: Axes) -> None:
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("Newborn age (epochs since birth)")


def _event_axis(ax: Axes, events) -> None:
    ax.set_xticks(sorted(events))
    ax.set_xlim(min(events) - 0.5, max(events) + 0.5)


def _signal_handles() -> list:
    return [Line2D([], [], color="0.3", label=SIGNAL_LABELS[signal], **style)
            for signal, style in SIGNAL_STYLES.items()]


def _reference_line(ax: Axes, y: float) -> None:
    ax.axhline(y, color="0.35", linewidth=0.9, zorder=0)


def _suptitle(fig: Figure, title: str, what: str, table: pd.DataFrame) -> None:
    fig.suptitle(f"{title}: {what}\n(n = {table['seed'].nunique()} seeds; mean ± 95% CI over seeds)", fontsize=12)


def _require_one(table: pd.DataFrame, column: str, figure: str) -> None:
    """Seeds are the only replicates a figure averages over: pooling benchmarks would mix them silently."""
    values = sorted(table[column].unique())
    if len(values) != 1:
        raise ValueError(f"{figure}: expected one {column}, got {values}; pass the rows of one benchmark")


def _layer_mean(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["layer"] == LAYER_MEAN]


def birth_parity_figure(probe: pd.DataFrame, title: str) -> Figure:
    """Per compactness panel: layer-mean log-parity per cycle boundary, births at Post and prunes at Exit."""
    _require_one(probe, "setting", "birth_parity_figure")
    kinds = {"birth": _layer_mean(birth_parity(probe)), "prune": _layer_mean(prune_parity(probe))}
    both = pd.concat(kinds.values())
    levels, events = sorted(both["c"].unique()), both["event"].unique()
    colors = _method_colors(both["method"].unique())
    series = [(kind, method, signal) for kind, table in kinds.items() for method in sorted(table["method"].unique())
              for signal in SIGNAL_STYLES]

    fig, axes = plt.subplots(1, len(levels), figsize=(3.6 * len(levels) + 1, 4.2), sharey=True,
                             layout="constrained", squeeze=False)
    for ax, c in zip(axes[0], levels):
        _reference_line(ax, 0.0)
        for (kind, method, signal), offset in zip(series, _offsets(len(series))):
            table = kinds[kind]
            rows = table[(table["method"] == method) & (table["c"] == c)]
            mean_ci_line(ax, rows, "event", f"log_{signal}_parity", band=False, offset=offset, color=colors[method],
                         linestyle=SIGNAL_STYLES[signal]["linestyle"], marker=EVENT_STYLES[kind]["marker"])
        ax.set_title(f"c = {c}% kept", loc="left", fontsize=11)
        _event_axis(ax, events)
        _style_axes(ax, "Cycle boundary (edit event)", "log-parity ln(A / B)  (0: parity)" if c == levels[0] else "")

    handles = [Line2D([], [], color=colors[method], marker=EVENT_STYLES[kind]["marker"], linestyle="none",
                      label=f"{method_label(method)}: {EVENT_STYLES[kind]['label']}")
               for kind, table in kinds.items() for method in sorted(table["method"].unique())]
    handles += [Line2D([], [], color="0.3", linestyle=style["linestyle"], label=SIGNAL_LABELS[signal])
                for signal, style in SIGNAL_STYLES.items()]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False, fontsize=9)
    _suptitle(fig, title, "cohort parity at each edit, layer mean", both)
    return fig


def post_birth_figure(probe: pd.DataFrame, title: str, method: str = "grow") -> Figure:
    """Newborn / incumbent activity and gradient log-ratios against newborn age, one line per birth event, per c."""
    _require_one(probe, "setting", "post_birth_figure")
    curves = post_birth_curves(probe)
    curves = curves[curves["method"] == method]
    levels = sorted(curves["c"].unique())
    colors = _sequential_colors(curves["event"].unique())

    fig, axes = plt.subplots(2, len(levels), figsize=(3.6 * len(levels) + 1, 6.4), sharex=True, sharey="row",
                             layout="constrained", squeeze=False)
    for row, signal in enumerate(SIGNAL_STYLES):
        for ax, c in zip(axes[row], levels):
            _reference_line(ax, 0.0)
            for event, color in colors.items():
                rows = curves[(curves["c"] == c) & (curves["event"] == event)]
                mean_ci_line(ax, rows, "age", f"log_{signal}_parity", color=color, marker="o")
            ylabel = f"{SIGNAL_LABELS[signal].capitalize()}: log-ratio\nln(newborn / incumbent)  (0: parity)"
            _style_axes(ax, "", ylabel if c == levels[0] else "")
            if row == 1:
                _age_axis(ax)
            if row == 0:
                ax.set_title(f"c = {c}% kept", loc="left", fontsize=11)

    handles = [Line2D([], [], color=color, marker="o", label=f"birth at boundary {event}")
               for event, color in colors.items()]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 5), frameon=False, fontsize=9)
    _suptitle(fig, title, f"{method_label(method)} newborns after birth, layer mean", curves)
    return fig


def taa_vs_parity_figure(probe: pd.DataFrame, runs: pd.DataFrame, title: str, early_epochs: int = 1) -> Figure:
    """Cycle TAA against early post-birth log gradient parity and log activity parity, one point per run."""
    _require_one(probe, "setting", "taa_vs_parity_figure")
    table = event_local_parity(probe, runs, early_epochs)
    colors = _method_colors(table["method"].unique())
    markers = dict(zip(sorted(table["c"].unique()), COMPACTNESS_MARKERS))

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4), sharey=True, layout="constrained")
    for ax, signal, panel in zip(axes, ["grad", "act"], ["(a)", "(b)"]):
        x = f"log_{signal}_parity"
        for (method, c), rows in table.groupby(["method", "c"]):
            ax.scatter(rows[x], 100 * rows["cycle_taa"], color=colors[method], marker=markers[c], s=28, alpha=0.85,
                       linewidths=0)
        rho, p = spearman(table, x, "cycle_taa")
        ax.set_title(f"{panel} Spearman ρ = {rho:.2f}, p = {p:.3g} (n = {len(table)} runs)", loc="left", fontsize=11)
        xlabel = (f"Early post-birth log {SIGNAL_LABELS[signal]} parity\n"
                  f"ln(newborn / incumbent), ages 0–{early_epochs} epochs")
        _style_axes(ax, xlabel, "Cycle TAA (%)" if signal == "grad" else "")

    handles = [Patch(color=color, label=method_label(method)) for method, color in colors.items()]
    handles += [Line2D([], [], color="0.3", marker=marker, linestyle="none", label=f"c = {c}%")
                for c, marker in markers.items()]
    fig.legend(handles=handles, loc="outside right center", frameon=False, fontsize=9)
    fig.suptitle(f"{title}: Cycle TAA vs early newborn parity (one point per run; mean over birth events)",
                 fontsize=12)
    return fig


def parity_geometry_figure(probe: pd.DataFrame, title: str) -> Figure:
    """Log activity vs log gradient parity, one point per run x event (births at Post, prunes at Exit)."""
    _require_one(probe, "setting", "parity_geometry_figure")
    kinds = {"birth": _layer_mean(birth_parity(probe)), "prune": _layer_mean(prune_parity(probe))}
    colors = _sequential_colors(pd.concat(kinds.values())["event"].unique())

    fig, ax = plt.subplots(figsize=(7.5, 5.6), layout="constrained")
    ax.axhline(0.0, color="0.35", linewidth=0.9, zorder=0)
    ax.axvline(0.0, color="0.35", linewidth=0.9, zorder=0)
    for kind, table in kinds.items():
        for event, color in colors.items():
            rows = table[table["event"] == event]
            ax.scatter(rows["log_act_parity"], rows["log_grad_parity"], color=color,
                       marker=EVENT_STYLES[kind]["marker"], s=26, alpha=0.8, linewidths=0)
    (x_low, x_high), (y_low, y_high) = ax.get_xlim(), ax.get_ylim()
    starved = Rectangle((0.0, y_low), max(x_high, 0.0), -y_low, color=STARVED_COLOR, alpha=0.12, linewidth=0, zorder=0)
    ax.add_patch(starved)
    ax.set_xlim(x_low, x_high)
    ax.set_ylim(y_low, y_high)
    _style_axes(ax, "log activity parity ln(A / B)  (forward)", "log gradient parity ln(A / B)  (backward)")

    handles = [Line2D([], [], color="0.3", marker=s["marker"], linestyle="none", label=f"{kind}: {s['label']}")
               for kind, s in EVENT_STYLES.items()]
    handles += [Patch(color=color, label=f"boundary {event}") for event, color in colors.items()]
    handles.append(Patch(color=STARVED_COLOR, alpha=0.12, label="lower right: newborns forward-active\n"
                                                               "but backward-starved"))
    fig.legend(handles=handles, loc="outside right center", frameon=False, fontsize=9)
    fig.suptitle(f"{title}: parity geometry at each edit (layer mean; one point per run and event)", fontsize=12)
    return fig


def heuristic_figure(probe: pd.DataFrame, runs: pd.DataFrame, title: str) -> Figure:
    """Grow with the activation vs the gradient selector: birth log-parity per event and grad log-ratio vs age."""
    labels = {selector: f"{selector} selector" for selector in SELECTORS}
    return grow_variants_figure(probe, runs, title, "grow.selector", SELECTOR_COLORS, labels, "Grow selection heuristic")


def swr_grow_figure(probe: pd.DataFrame, runs: pd.DataFrame, title: str) -> Figure:
    """Grow with and without Soft Weight Rescaling: does SWR change the newborns' gradient parity?"""
    labels = {"none": "Grow", "swr": "Grow + SWR"}
    return grow_variants_figure(probe, runs, title, "regularizer.kind", SWR_GROW_COLORS, labels,
                                "Grow with and without SWR")


def grow_variants_figure(probe: pd.DataFrame, runs: pd.DataFrame, title: str, column: str, colors: dict[str, str],
                         labels: dict[str, str], what: str) -> Figure:
    """Variants of Grow told apart by a runs-table column (one colour each): birth log-parity per event and
    gradient log-ratio against newborn age."""
    _require_one(runs, "dataset", "grow_variants_figure")
    variants = runs[RUN_KEY + [column]]
    births = _layer_mean(birth_parity(probe)).merge(variants, on=RUN_KEY, validate="many_to_one")
    curves = post_birth_curves(probe).merge(variants, on=RUN_KEY, validate="many_to_one")
    births, curves = births[births["method"] == "grow"], curves[curves["method"] == "grow"]

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.4), layout="constrained")
    _reference_line(left, 0.0)
    series = [(variant, signal) for variant in colors for signal in SIGNAL_STYLES]
    for (variant, signal), offset in zip(series, _offsets(len(series))):
        per_seed = _seed_means(births[births[column] == variant], ["event"], f"log_{signal}_parity")
        mean_ci_line(left, per_seed, "event", f"log_{signal}_parity", band=False, offset=offset,
                     color=colors[variant], **SIGNAL_STYLES[signal])
    left.set_title("(a) Birth parity at Post", loc="left", fontsize=11)
    _event_axis(left, births["event"].unique())
    _style_axes(left, "Cycle boundary (birth event)", "log-parity ln(newborn / incumbent)")

    _reference_line(right, 0.0)
    for variant in colors:
        per_seed = _seed_means(curves[curves[column] == variant], ["age"], "log_grad_parity")
        mean_ci_line(right, per_seed, "age", "log_grad_parity", color=colors[variant], **SIGNAL_STYLES["grad"])
    right.set_title("(b) Post-birth gradient log-ratio (mean over events)", loc="left", fontsize=11)
    _style_axes(right, "", "Gradient: ln(newborn / incumbent)  (0: parity)")
    _age_axis(right)

    handles = [Patch(color=color, label=labels[variant]) for variant, color in colors.items()]
    fig.legend(handles=handles + _signal_handles(), loc="outside right center", frameon=False, fontsize=9)
    _suptitle(fig, title, f"{what}, layer mean, seeds averaged over c", births)
    return fig


def cycles_figure(runs: pd.DataFrame, title: str) -> Figure:
    """Cycle TAA, Cycle ACC (and WT ACC when the runs have it) against the number of cycles K, per method."""
    _require_one(runs, "dataset", "cycles_figure")
    has_tickets = "wt_acc" in runs and runs["wt_acc"].notna().any()
    metrics = ["cycle_taa", "cycle_acc"] + (["wt_acc"] if has_tickets else [])
    colors = _method_colors(runs["method"].unique())

    fig, axes = plt.subplots(1, len(metrics), figsize=(3.8 * len(metrics) + 1.5, 4.2), layout="constrained")
    for ax, metric in zip(axes, metrics):
        for method, color in colors.items():
            per_seed = _seed_means(runs[runs["method"] == method], ["cycles"], metric)
            per_seed[metric] *= 100
            mean_ci_line(ax, per_seed, "cycles", metric, band=False, color=color, marker="o")
        ax.set_xticks(sorted(runs["cycles"].unique()))
        ax.set_title(METRIC_LABELS[metric], loc="left", fontsize=11)
        _style_axes(ax, "Number of cycles K (total epochs fixed)", f"{METRIC_LABELS[metric]} (%)")

    handles = [Patch(color=color, label=method_label(method)) for method, color in colors.items()]
    fig.legend(handles=handles, loc="outside right center", frameon=False, fontsize=9)
    _suptitle(fig, title, "growth-cycle stress test, seeds averaged over c", runs)
    return fig


def age_figure(probe: pd.DataFrame, runs: pd.DataFrame, title: str, method: str = "grow") -> Figure:
    """Newborn / incumbent gradient log-ratio against newborn age, one line per number of cycles K."""
    _require_one(runs, "dataset", "age_figure")
    curves = post_birth_curves(probe).merge(runs[RUN_KEY + ["cycles"]], on=RUN_KEY, validate="many_to_one")
    curves = curves[curves["method"] == method]
    colors = _sequential_colors(curves["cycles"].unique())

    fig, ax = plt.subplots(figsize=(8.5, 4.8), layout="constrained")
    _reference_line(ax, 0.0)
    for cycles, color in colors.items():
        per_seed = _seed_means(curves[curves["cycles"] == cycles], ["age"], "log_grad_parity")
        mean_ci_line(ax, per_seed, "age", "log_grad_parity", color=color, marker="o")
    _style_axes(ax, "", "Gradient: ln(newborn / incumbent)  (0: parity)")
    _age_axis(ax)

    handles = [Line2D([], [], color=color, marker="o", label=f"K = {cycles} cycles")
               for cycles, color in colors.items()]
    ax.legend(handles=handles, loc="best", frameon=False, fontsize=9)
    ax.set_title("mean over birth events and compactness levels", loc="left", fontsize=10)
    _suptitle(fig, title, f"{method_label(method)} newborn gradient log-ratio by K", curves)
    return fig


def intervention_synthesis_figure(probe: pd.DataFrame, runs: pd.DataFrame, title: str, early_epochs: int) -> Figure:
    """Early post-birth gradient and activity log-parity against Cycle TAA, and WT ACC against Cycle TAA: each
    variant's mean large, its runs (seeds x compactness) light; Spearman rho over the variant means (and runs)."""
    table = intervention_runs(runs, probe, early_epochs)
    _require_one(table, "dataset", "intervention_synthesis_figure")
    table = table[table["c"].isin(table.loc[table["method"] == "grow", "c"])]  # not the full Dense network
    table = table.assign(cycle_taa=100 * table["cycle_taa"], wt_acc=100 * table["wt_acc"])
    variants = [v for v in VARIANTS if v in set(table["variant"])] + sorted(set(table["variant"]) - set(VARIANTS))
    colors = {v: VARIANT_COLORS.get(v, "#999999") for v in variants}
    panels = [("log_grad_parity", "cycle_taa", "(a)", f"Early log gradient parity\nln(newborn / incumbent), ages "
               f"0–{early_epochs} epochs"),
              ("log_act_parity", "cycle_taa", "(b)", f"Early log activity parity\nln(newborn / incumbent), ages "
               f"0–{early_epochs} epochs"),
              ("cycle_taa", "wt_acc", "(c)", "Cycle TAA (%)")]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8), layout="constrained")
    for ax, (x, y, panel, xlabel) in zip(axes, panels):
        rows = table.dropna(subset=[x, y])
        means = rows.groupby("variant", as_index=False)[[x, y]].mean()
        for variant in variants:
            mine = rows[rows["variant"] == variant]
            ax.scatter(mine[x], mine[y], color=colors[variant], s=14, alpha=0.3, linewidths=0)
            mean = means[means["variant"] == variant]
            ax.scatter(mean[x], mean[y], color=colors[variant], s=110, edgecolors="white", linewidths=1.0, zorder=3)
        rho, p = spearman(means, x, y)
        rho_runs, p_runs = spearman(rows, x, y)
        ax.set_title(f"{panel} Spearman ρ over {len(means)} method means: {rho:.2f} (p = {p:.2g})\n"
                     f"over {len(rows)} runs: {rho_runs:.2f} (p = {p_runs:.2g})", loc="left", fontsize=10)
        _style_axes(ax, xlabel, "WT ACC (%)" if y == "wt_acc" else "Cycle TAA (%)")
    handles = [Line2D([], [], color=colors[v], marker="o", linestyle="none", markersize=9, label=variant_label(v))
               for v in variants]
    handles.append(Line2D([], [], color="0.5", marker="o", linestyle="none", markersize=4, alpha=0.4,
                          label="one run (seed x c)"))
    fig.legend(handles=handles, loc="outside right center", frameon=False, fontsize=9)
    fig.suptitle(f"{title}: do interventions that raise early newborn parity raise Cycle TAA, and the ticket?\n"
                 f"(n = {table['seed'].nunique()} seeds, c = {', '.join(str(c) for c in sorted(table['c'].unique()))}%; "
                 f"parities only where units are born)", fontsize=12)
    return fig


def rsl_parity_figure(probe: pd.DataFrame, runs: pd.DataFrame, title: str) -> Figure:
    """Grow under ReLU and under RSL: birth log-parity per boundary and gradient log-ratio against newborn age."""
    table = runs_by_variant(runs)
    table = table[table["variant"].isin(["grow", "rsl"])]
    rsl = table[table["variant"] == "rsl"]
    table = table[table["dataset"].isin(rsl["dataset"]) & table["c"].isin(rsl["c"])]  # like with like
    probe = probe.drop_duplicates(SNAPSHOT_KEY + ["layer"]).merge(table[RUN_KEY], on=RUN_KEY)
    labels = {"relu": "Grow (ReLU)", "rsl": "Grow + RSL"}
    return grow_variants_figure(probe, table, title, "activation", RSL_COLORS, labels, "ReLU vs RSL newborns")


def two_speed_sweep_figure(runs: pd.DataFrame, title: str) -> Figure:
    """Cycle TAA and WT ACC over the Two-Speed grid r x N (mean over seeds, each seed averaged over c), with
    plain Grow (r = 1) named in each panel's title."""
    grid = two_speed_grid(runs)
    _require_one(grid, "dataset", "two_speed_sweep_figure")
    sweep, plain = grid[grid["r"] != 1], grid[grid["r"] == 1]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained")
    for ax, metric in zip(axes, ["cycle_taa", "wt_acc"]):
        cells = sweep[sweep["metric"] == metric].pivot(index="r", columns="N", values="mean") * 100
        spread = sweep[sweep["metric"] == metric].pivot(index="r", columns="N", values="ci") * 100
        image = ax.imshow(cells.to_numpy(), cmap="viridis", aspect="auto", origin="lower")
        for (i, j), value in np.ndenumerate(cells.to_numpy()):
            if not np.isnan(value):
                ax.text(j, i, f"{value:.1f}\n± {spread.to_numpy()[i, j]:.1f}", ha="center", va="center",
                        fontsize=8, color="white" if value < np.nanmean(cells.to_numpy()) else "black")
        ax.set_xticks(range(len(cells.columns)), [f"{int(n)}" for n in cells.columns])
        ax.set_yticks(range(len(cells.index)), [f"{r:g}" for r in cells.index])
        reference = plain[plain["metric"] == metric]
        grow_text = (f"plain Grow {100 * reference['mean'].iloc[0]:.1f} ± {100 * reference['ci'].iloc[0]:.1f}"
                     if len(reference) else "plain Grow not run")
        ax.set_title(f"{METRIC_LABELS[metric]} (%); {grow_text}", loc="left", fontsize=10)
        ax.set_xlabel("window N (optimizer steps after each birth)")
        ax.set_ylabel("amplification r")
        fig.colorbar(image, ax=ax, shrink=0.85)
    seeds = runs.loc[runs["method"] == "grow", "seed"].nunique()
    fig.suptitle(f"{title}: Two-Speed sweep (mean ± 95% CI over {seeds} seeds, each seed averaged over c)", fontsize=12)
    return fig
