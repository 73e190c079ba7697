"""Paper tables: tidy numbers to CSV, formatted "mean ± ci" cells to Markdown and booktabs LaTeX."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from plasticity.io import atomic_write_csv, atomic_write_text
from plasticity.metrics import DENSE_TRAINING_C
from plasticity.stats import summarise, welch_table

METHOD_LABELS = {"dense": "Dense", "grow": "Grow", "prune": "Prune"}
METRIC_LABELS = {
    "cycle_acc": "Cycle ACC",
    "cycle_taa": "Cycle TAA",
    "wt_acc": "WT ACC",
    "wt_taa": "WT TAA",
    "delta_acc": "ΔACC",
    "delta_taa": "ΔTAA",
}
SUMMARY_LABELS = {"wt_acc": "WT Final", "wt_taa": "WT TAA", "delta_acc": "ΔACC", "delta_taa": "ΔTAA"}
INDEX_LABELS = {"setting": "Benchmark", "method": "Method", "c": "c (%)", "comparison": "Comparison"}
_LATEX_ESCAPES = str.maketrans({
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "±": r"$\pm$",
    "Δ": r"$\Delta$",
})


def method_label(method: str) -> str:
    return METHOD_LABELS.get(method, method)


def format_percent(mean: float, ci: float) -> str:
    """'mean ± ci' in percent; the interval is left out when it is undefined (one seed)."""
    if math.isnan(ci):
        return f"{100 * mean:.2f}"
    return f"{100 * mean:.2f} ± {100 * ci:.2f}"


def format_p(p: float) -> str:
    return "n/a" if math.isnan(p) else f"{p:.3g}"


def _latex(df: pd.DataFrame, caption: str) -> str:
    def row(cells) -> str:
        return " & ".join(str(cell).translate(_LATEX_ESCAPES) for cell in cells) + r" \\"

    return "\n".join([
        r"\begin{table}[t]",
        r"\centering",
        rf"\caption{{{caption.translate(_LATEX_ESCAPES)}}}",
        rf"\begin{{tabular}}{{{'l' * len(df.columns)}}}",
        r"\toprule",
        row(df.columns),
        r"\midrule",
        *(row(cells) for cells in df.itertuples(index=False)),
        r"\bottomrule",
        r"\end{tabular}",
        r"\end{table}",
        "",
    ])


def write_table(df: pd.DataFrame, stem: str | Path, caption: str, formatted: pd.DataFrame | None = None) -> None:
    """Write stem.csv (df, tidy numbers) and stem.md / stem.tex (`formatted`, or df when not given)."""
    stem = Path(stem)
    shown = df if formatted is None else formatted
    atomic_write_csv(df, stem.with_name(stem.name + ".csv"))
    atomic_write_text(f"{caption}\n\n{shown.to_markdown(index=False)}\n", stem.with_name(stem.name + ".md"))
    atomic_write_text(_latex(shown, caption), stem.with_name(stem.name + ".tex"))


def percent_cells(long: pd.DataFrame) -> pd.Series:
    return pd.Series([format_percent(m, ci) for m, ci in zip(long["mean"], long["ci"])], index=long.index)


def wide_table(long: pd.DataFrame, index: list[str], cells: pd.Series, labels: dict[str, str]) -> pd.DataFrame:
    """Pivot formatted cells of a long table (one row per metric) to one column per metric."""
    wide = long.assign(cell=cells).pivot(index=index, columns="metric", values="cell")
    wide = wide[list(labels)].rename(columns=labels).reset_index()
    if "method" in wide:
        wide["method"] = wide["method"].map(method_label)
    if "comparison" in wide:
        wide["comparison"] = wide["comparison"].map(
            lambda name: " vs ".join(method_label(m) for m in name.split("_vs_"))
        )
    wide.columns.name = None
    return wide.rename(columns=INDEX_LABELS)


def summary_table(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per benchmark and method: WT and Delta metrics averaged over compactness levels; Dense is the full
    network (c = 100), as the papers report it once.

    Each seed is first averaged over c, so the interval reflects seed-to-seed variation only.
    Returns (tidy numbers, formatted table).
    """
    metrics = list(SUMMARY_LABELS)
    in_summary = (runs["method"] == "dense") == (runs["c"] == DENSE_TRAINING_C)
    per_seed = runs[in_summary].groupby(["setting", "method", "seed"], as_index=False)[metrics].mean()
    tidy = summarise(per_seed, metrics, by=("setting", "method"))
    return tidy, wide_table(tidy, ["setting", "method"], percent_cells(tidy), SUMMARY_LABELS)


def compactness_table(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per benchmark, compactness and method: every metric as mean ± 95% CI over seeds."""
    tidy = summarise(runs)
    return tidy, wide_table(tidy, ["setting", "c", "method"], percent_cells(tidy), METRIC_LABELS)


def welch_p_table(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per benchmark, compactness and method pair: Welch p-values for Cycle/WT x ACC/TAA."""
    tidy = welch_table(runs)
    labels = {metric: METRIC_LABELS[metric] for metric in tidy["metric"].unique()}
    return tidy, wide_table(tidy, ["setting", "c", "comparison"], tidy["p"].map(format_p), labels)
