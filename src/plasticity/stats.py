"""Statistics over seeds (PROTOCOL.md section 4): mean +- 95% t-interval and Welch two-sample t-tests."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from plasticity.hooks import COMPARISONS
from plasticity.metrics import METRICS

ACC_TAA_METRICS = ["cycle_acc", "cycle_taa", "wt_acc", "wt_taa"]


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of the Student t interval; the half-width is NaN below two values."""
    x = np.asarray(values, dtype=float)
    if len(x) == 0:
        return math.nan, math.nan
    if len(x) == 1:
        return float(x[0]), math.nan
    sem = x.std(ddof=1) / math.sqrt(len(x))
    return float(x.mean()), float(stats.t.ppf((1 + confidence) / 2, len(x) - 1) * sem)


def welch_t(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """(t, p) of Welch's unequal-variance t-test; NaNs when either side has fewer than two values."""
    if len(a) < 2 or len(b) < 2:
        return math.nan, math.nan
    result = stats.ttest_ind(np.asarray(a, float), np.asarray(b, float), equal_var=False)
    return float(result.statistic), float(result.pvalue)


def welch(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided p-value of Welch's t-test (NaN when either side has fewer than two values)."""
    return welch_t(a, b)[1]


def summarise(
    runs: pd.DataFrame, metrics: Sequence[str] = METRICS, by: Sequence[str] = ("setting", "method", "c")
) -> pd.DataFrame:
    """Long table: one row per group x metric with n (seeds), mean and ci (95% half-width)."""
    rows = []
    for group, frame in runs.groupby(list(by), sort=True):
        for metric in metrics:
            mean, ci = mean_ci(frame[metric].to_numpy())
            rows.append({**dict(zip(by, group)), "metric": metric, "n": len(frame), "mean": mean, "ci": ci})
    return pd.DataFrame(rows)


def welch_table(
    runs: pd.DataFrame,
    comparisons: Sequence[tuple[str, str]] = COMPARISONS,
    metrics: Sequence[str] = ACC_TAA_METRICS,
    by: Sequence[str] = ("setting", "c"),
) -> pd.DataFrame:
    """Welch tests of method a vs method b, per group and metric, across seeds; a group where either method
    has no runs (Dense alone at c = 100) has no row."""
    rows = []
    for group, frame in runs.groupby(list(by), sort=True):
        for method_a, method_b in comparisons:
            a = frame[frame["method"] == method_a]
            b = frame[frame["method"] == method_b]
            if a.empty or b.empty:
                continue
            for metric in metrics:
                t, p = welch_t(a[metric].to_numpy(), b[metric].to_numpy())
                rows.append({
                    **dict(zip(by, group)),
                    "comparison": f"{method_a}_vs_{method_b}",
                    "metric": metric,
                    "mean_a": a[metric].mean(),
                    "mean_b": b[metric].mean(),
                    "t": t,
                    "p": p,
                })
    return pd.DataFrame(rows)


def spearman(table: pd.DataFrame, x: str, y: str) -> tuple[float, float]:
    """(rho, p) of Spearman's rank correlation between two columns; NaNs below three rows or for a constant column."""
    if len(table) < 3 or table[x].nunique() < 2 or table[y].nunique() < 2:
        return math.nan, math.nan
    result = stats.spearmanr(table[x], table[y])
    return float(result.statistic), float(result.pvalue)
