"""Paper tables: tidy numbers to CSV, formatted "mean ± ci" cells to Markdown and booktabs LaTeX."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from plasticity.hooks import METHODS
from plasticity.io import atomic_write_csv, atomic_write_text
from plasticity.metrics import DENSE_TRAINING_C
from plasticity.provenance import line as provenance_line
from plasticity.provenance import write as write_provenance
from plasticity.stats import summarise, welch_table

METHOD_LABELS = {name: entry.label for name, entry in METHODS.items()}
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


def format_mean_ci(mean: float, ci: float, digits: int = 2) -> str:
    """'mean ± ci'; the interval is left out when it is undefined (one seed)."""
    if math.isnan(ci):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {ci:.{digits}f}"


def format_percent(mean: float, ci: float) -> str:
    """'mean ± ci' of fractions, in percent."""
    return format_mean_ci(100 * mean, 100 * ci)


def format_p(p: float) -> str:
    return "n/a" if math.isnan(p) else f"{p:.3g}"


def _latex(df: pd.DataFrame, caption: str, long: bool = False, footer: str = "") -> str:
    """A booktabs table; `long` makes it a longtable that breaks across pages (package longtable)."""
    def row(cells) -> str:
        return " & ".join(str(cell).translate(_LATEX_ESCAPES) for cell in cells) + r" \\"

    caption = rf"\caption{{{caption.translate(_LATEX_ESCAPES)}}}"
    columns = "l" * len(df.columns)
    begin = [rf"\begin{{longtable}}{{{columns}}}", caption + r" \\"] if long else [
        r"\begin{table}[t]", r"\centering", caption, rf"\begin{{tabular}}{{{columns}}}"]
    end = [r"\end{longtable}"] if long else [r"\end{tabular}", r"\end{table}"]
    return "\n".join([
        *begin,
        r"\toprule",
        row(df.columns),
        r"\midrule",
        *(row(cells) for cells in df.itertuples(index=False)),
        r"\bottomrule",
        *end,
        *([f"% {footer}"] if footer else []),
        "",
    ])


def write_table(df: pd.DataFrame, stem: str | Path, caption: str, formatted: pd.DataFrame | None = None,
                provenance: dict | None = None, long: bool = False) -> None:
    """Write stem.csv (df, tidy numbers) and stem.md / stem.tex (`formatted`, or df when not given); with
    `provenance`, its line ends the Markdown and LaTeX files and stem.provenance.json holds the record."""
    stem = Path(stem)
    shown = df if formatted is None else formatted
    footer = provenance_line(provenance) if provenance else ""
    atomic_write_csv(df, stem.with_name(stem.name + ".csv"))
    markdown = f"{caption}\n\n{shown.to_markdown(index=False)}\n" + (f"\n{footer}\n" if footer else "")
    atomic_write_text(markdown, stem.with_name(stem.name + ".md"))
    atomic_write_text(_latex(shown, caption, long, footer), stem.with_name(stem.name + ".tex"))
    if provenance:
        write_provenance(stem, provenance)


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


def mean_over_compactness(runs: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """One row per setting, method and seed: the seed's metrics averaged over the compactness levels below 100;
    Dense's row is its full network (c = 100), which the papers report once."""
    in_summary = (runs["method"] == "dense") == (runs["c"] == DENSE_TRAINING_C)
    return runs[in_summary].groupby(["setting", "method", "seed"], as_index=False)[metrics].mean()


def summary_table(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per benchmark and method: WT and Delta metrics averaged over compactness levels; Dense is the full
    network (c = 100), as the papers report it once.

    Each seed is first averaged over c, so the interval reflects seed-to-seed variation only.
    Returns (tidy numbers, formatted table).
    """
    metrics = list(SUMMARY_LABELS)
    tidy = summarise(mean_over_compactness(runs, metrics), metrics, by=("setting", "method"))
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
