"""Newborn-diagnostics analysis (PROTOCOL.md sections 4 and 5): tidy tables from the probe and runs tables.

The probe table (plasticity.probes) has one row per run x event x snapshot x layer with the parity
R = mean(cohort A) / mean(cohort B) of a birth (newborn / incumbent) or a prune (pruned / kept).
Layers are averaged in log space: the layer-mean log-parity is the mean of the layers' log-parities and
its parity is exp of that, the geometric mean of the layers' ratios.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from plasticity.metrics import RUN_KEY
from plasticity.stats import ACC_TAA_METRICS, mean_ci, summarise, welch_t
from plasticity.tables import INDEX_LABELS, METRIC_LABELS, format_p, format_percent, percent_cells, wide_table

LAYER_MEAN = "mean"
LOG_PARITIES = ["log_act_parity", "log_grad_parity"]
PARITIES = ["act_parity", "grad_parity"]
SNAPSHOT_KEY = RUN_KEY + ["phase", "event", "snapshot", "epoch", "age", "cohort_a", "cohort_b"]
BIRTH = "newborn"  # cohort_a of a birth event (cohort_b: incumbent)
PRUNE = "pruned"  # cohort_a of a prune event (cohort_b: kept)
SELECTORS = ["activation", "gradient"]


def layer_mean(probe: pd.DataFrame) -> pd.DataFrame:
    """One row per run x event x snapshot, layer "mean": log-parities averaged over layers, parity = exp of that.

    Returns only the layer-mean rows; concatenate them with the per-layer rows where both are wanted.
    """
    mean = probe.groupby(SNAPSHOT_KEY, as_index=False)[LOG_PARITIES].mean()
    mean["act_parity"] = np.exp(mean["log_act_parity"])
    mean["grad_parity"] = np.exp(mean["log_grad_parity"])
    mean["layer"] = LAYER_MEAN
    return mean


def _cohort_parity(probe: pd.DataFrame, cohort_a: str, snapshot: str) -> pd.DataFrame:
    """Parities of one kind of event at one snapshot, per layer and layer mean, per run and event."""
    rows = probe[(probe["cohort_a"] == cohort_a) & (probe["snapshot"] == snapshot)]
    both = pd.concat([rows, layer_mean(rows)], ignore_index=True)
    columns = RUN_KEY + ["event", "layer"] + PARITIES + LOG_PARITIES
    return both[columns].sort_values(RUN_KEY + ["event", "layer"]).reset_index(drop=True)


def birth_parity(probe: pd.DataFrame) -> pd.DataFrame:
    """Newborn / incumbent parity at Post (right after each birth), per run, event and layer (+ "mean")."""
    return _cohort_parity(probe, BIRTH, "post")


def prune_parity(probe: pd.DataFrame) -> pd.DataFrame:
    """Pruned / kept parity at Exit (end of the cycle, before removal), per run, event and layer (+ "mean")."""
    return _cohort_parity(probe, PRUNE, "exit")


def post_birth_curves(probe: pd.DataFrame) -> pd.DataFrame:
    """Layer-mean newborn / incumbent ratios per run, birth event and newborn age (Post = age 0, then each epoch)."""
    births = probe[(probe["cohort_a"] == BIRTH) & probe["snapshot"].isin(["post", "epoch"])]
    columns = RUN_KEY + ["event", "age"] + PARITIES + LOG_PARITIES
    return layer_mean(births)[columns].sort_values(RUN_KEY + ["event", "age"]).reset_index(drop=True)


def event_local_parity(probe: pd.DataFrame, runs: pd.DataFrame, early_epochs: int = 1) -> pd.DataFrame:
    """Per run with births: early post-birth log-parities (ages 0..early_epochs) with its Cycle TAA and ACC.

    Each event's layer-mean log-parities are averaged over its early ages, then the events are averaged,
    so every birth event weighs the same. Raises ValueError when a run of the probe is missing from `runs`.
    """
    curves = post_birth_curves(probe)
    early = curves[curves["age"] <= early_epochs]
    per_event = early.groupby(RUN_KEY + ["event"], as_index=False)[LOG_PARITIES].mean()
    per_run = per_event.groupby(RUN_KEY, as_index=False)[LOG_PARITIES].mean()
    table = per_run.merge(runs[RUN_KEY + ["cycle_taa", "cycle_acc"]], on=RUN_KEY, how="left",
                          validate="one_to_one", indicator=True)
    missing = table[table["_merge"] == "left_only"]
    if len(missing):
        raise ValueError(f"event_local_parity: no runs row for {missing[RUN_KEY].to_dict('records')}")
    return table.drop(columns="_merge")


def heuristic_table(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Grow with the activation vs the gradient selector, per dataset and c: mean ± 95% CI and Welch p.

    A selector variant is its own setting, so runs are grouped by dataset (one benchmark per dataset).
    Returns (tidy numbers: one row per dataset x c x metric, formatted table).
    """
    grow = runs[runs["method"] == "grow"]
    rows = []
    for (dataset, c), frame in grow.groupby(["dataset", "c"], sort=True):
        for metric in ACC_TAA_METRICS:
            by_selector = {s: frame.loc[frame["grow.selector"] == s, metric].to_numpy() for s in SELECTORS}
            row = {"dataset": dataset, "c": c, "metric": metric}
            for selector, values in by_selector.items():
                mean, ci = mean_ci(values)
                row |= {f"n_{selector}": len(values), f"mean_{selector}": mean, f"ci_{selector}": ci}
            row["t"], row["p"] = welch_t(by_selector["activation"], by_selector["gradient"])
            rows.append(row)
    tidy = pd.DataFrame(rows)
    formatted = pd.DataFrame({
        "Dataset": tidy["dataset"],
        INDEX_LABELS["c"]: tidy["c"],
        "Metric": tidy["metric"].map(METRIC_LABELS),
        **{f"{s.capitalize()} selector": [format_percent(m, ci) for m, ci in zip(tidy[f"mean_{s}"], tidy[f"ci_{s}"])]
           for s in SELECTORS},
        "Welch p": tidy["p"].map(format_p),
    })
    return tidy, formatted


def allocation_table(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Grow per allocation schedule, dataset and c: Cycle/WT x ACC/TAA as mean ± 95% CI over seeds.

    An allocation schedule is its own setting, so runs are grouped by dataset (one benchmark per dataset).
    Returns (tidy numbers: one row per dataset x c x allocation x metric, formatted table).
    """
    grow = runs[runs["method"] == "grow"]
    tidy = summarise(grow, ACC_TAA_METRICS, by=("dataset", "c", "allocation"))
    labels = {metric: METRIC_LABELS[metric] for metric in ACC_TAA_METRICS}
    formatted = wide_table(tidy, ["dataset", "c", "allocation"], percent_cells(tidy), labels)
    return tidy, formatted.rename(columns={"dataset": "Dataset", "allocation": "Allocation"})
