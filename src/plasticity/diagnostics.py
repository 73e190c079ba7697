"""Newborn-diagnostics analysis (PROTOCOL.md sections 4 and 5): tidy tables from the probe and runs tables.

The probe table (plasticity.probes) has one row per run x event x snapshot x layer with the parity
R = mean(cohort A) / mean(cohort B) of a birth (newborn / incumbent) or a prune (pruned / kept).
Layers are averaged in log space: the layer-mean log-parity is the mean of the layers' log-parities and
its parity is exp of that, the geometric mean of the layers' ratios.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from plasticity.metrics import DENSE_TRAINING_C, RUN_KEY
from plasticity.stats import ACC_TAA_METRICS, mean_ci, summarise, welch_t
from plasticity.tables import (INDEX_LABELS, METRIC_LABELS, format_mean_ci, format_p, format_percent, percent_cells,
                               wide_table)

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


# The interventions of PROTOCOL.md section 5, told apart by the config columns of their runs: (name, label).
VARIANTS = {
    "dense": "Dense",
    "prune": "Prune",
    "grow": "Grow",
    "grow_momentum": "Grow (momentum 0.9)",
    "two_speed": "Grow + Two-Speed",
    "transplant": "Grow + Moment Transplant",
    "net2wider": "Grow + Net2Wider",
    "gradmax": "Grow + GradMax",
    "rsl": "Grow + RSL",
}
# The Grow each variant is tested against: Moment Transplant against Grow under the same optimizer (momentum).
VARIANT_REFERENCE = {"transplant": "grow_momentum"}
INTERVENTION_METRICS = ["cycle_acc", "cycle_taa", "wt_acc", "wt_taa", "delta_acc", "delta_taa",
                        "log_grad_parity", "log_act_parity"]
PARITY_LABELS = {"log_grad_parity": "early log grad parity", "log_act_parity": "early log act parity"}


def variant_of(run: pd.Series) -> str:
    """Which intervention a run is (VARIANTS): its method, or for Grow the intervention keys its config turns on."""
    if run["method"] != "grow":
        return run["method"]
    parts = [name for name, on in [
        ("two_speed", run["grow.two_speed_factor"] != 1 and run["grow.two_speed_steps"] > 0),
        ("transplant", bool(run["grow.transplant"])), ("net2wider", run["grow.insertion"] == "net2wider"),
        ("gradmax", run["grow.selector"] == "gradmax"), ("rsl", run["activation"] == "rsl")] if on]
    if not parts:
        return "grow_momentum" if run["momentum"] > 0 else "grow"
    return "+".join(parts)


def variant_label(variant: str) -> str:
    return " + ".join(VARIANTS.get(part, part) for part in variant.split("+")).replace(" + Grow + ", " + ")


def runs_by_variant(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per run (runs lent by two studies counted once) with its variant (VARIANTS)."""
    runs = runs.drop_duplicates(RUN_KEY).copy()
    runs["variant"] = runs.apply(variant_of, axis=1)
    return runs


def intervention_runs(runs: pd.DataFrame, probe: pd.DataFrame, early_epochs: int) -> pd.DataFrame:
    """The runs of the datasets and compactness levels that intervention variants ran at (and the full Dense
    network), one row per run (runs lent by two studies counted once), with their variant, label and early
    post-birth log-parities (ages 0..early_epochs; NaN without births)."""
    runs = runs_by_variant(runs)
    runs["label"] = runs["variant"].map(variant_label)
    two_speed = runs["variant"].str.contains("two_speed")
    runs.loc[two_speed, "label"] += [f" (r = {r:g}, N = {n})" for r, n in
                                     zip(runs.loc[two_speed, "grow.two_speed_factor"], runs.loc[two_speed, "grow.two_speed_steps"])]
    interventions = runs[~runs["variant"].isin(["dense", "prune", "grow", "grow_momentum"])]
    # The references where interventions ran (the lending study may run more c), and the full Dense network.
    runs = runs[runs["dataset"].isin(interventions["dataset"]) & runs["c"].isin([*interventions["c"], DENSE_TRAINING_C])]
    probe = probe.drop_duplicates(SNAPSHOT_KEY + ["layer"])
    probe = probe.merge(runs[RUN_KEY], on=RUN_KEY)
    parities = event_local_parity(probe, runs, early_epochs)[RUN_KEY + LOG_PARITIES] if len(probe) else None
    if parities is None:
        return runs.assign(log_grad_parity=np.nan, log_act_parity=np.nan)
    return runs.merge(parities, on=RUN_KEY, how="left", validate="one_to_one")


def intervention_table(runs: pd.DataFrame, probe: pd.DataFrame, early_epochs: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per dataset, c and variant: Cycle and WT ACC/TAA, Delta and the early log-parities (mean ± 95% CI over
    seeds), with the Welch p of each Grow intervention against its reference Grow (VARIANT_REFERENCE, else plain
    Grow). Returns (tidy: one row per dataset x c x variant x metric, formatted)."""
    table = intervention_runs(runs, probe, early_epochs)
    rows = []
    for (dataset, c, setting, variant), frame in table.groupby(["dataset", "c", "setting", "variant"], sort=True):
        label = frame["label"].iloc[0]
        reference = VARIANT_REFERENCE.get(variant, "grow")
        compared = variant not in ("dense", "prune", "grow", "grow_momentum")
        reference_rows = table[(table["dataset"] == dataset) & (table["c"] == c) & (table["variant"] == reference)]
        for metric in INTERVENTION_METRICS:
            values = frame[metric].dropna().to_numpy()
            mean, ci = mean_ci(values) if len(values) else (np.nan, np.nan)
            p = welch_t(values, reference_rows[metric].dropna().to_numpy())[1] if compared else np.nan
            rows.append({"dataset": dataset, "c": c, "setting": setting, "variant": variant, "label": label,
                         "metric": metric, "n": len(values), "mean": mean, "ci": ci,
                         "reference": reference if compared else "", "p": p})
    tidy = pd.DataFrame(rows)
    tidy["order"] = tidy["variant"].map({name: i for i, name in enumerate(VARIANTS)}).fillna(len(VARIANTS))
    tidy = tidy.sort_values(["dataset", "c", "order", "label"], kind="stable").drop(columns="order")

    def cell(row) -> str:
        if np.isnan(row["mean"]):
            return "–"
        text = (format_mean_ci(row["mean"], row["ci"]) if row["metric"] in PARITY_LABELS
                else format_percent(row["mean"], row["ci"]))
        return text if np.isnan(row["p"]) else f"{text} (p {format_p(row['p'])})"

    tidy_cells = tidy.assign(cell=tidy.apply(cell, axis=1))
    formatted = tidy_cells.pivot_table(index=["dataset", "c", "label"], columns="metric", values="cell",
                                       aggfunc="first", sort=False)
    formatted = formatted[INTERVENTION_METRICS].rename(columns={**METRIC_LABELS, **PARITY_LABELS}).reset_index()
    formatted = formatted.rename(columns={"dataset": "Dataset", "c": INDEX_LABELS["c"], "label": "Method"})
    return tidy.reset_index(drop=True), formatted


def two_speed_grid(runs: pd.DataFrame) -> pd.DataFrame:
    """The Two-Speed sweep: per r x N (plain Grow as r = 1), Cycle TAA and WT ACC as mean ± 95% CI over seeds,
    each seed averaged over c first."""
    grow = runs_by_variant(runs)
    grow = grow[grow["variant"].isin(["grow", "two_speed"])]
    plain = grow["variant"] == "grow"
    grow["r"] = grow["grow.two_speed_factor"].where(~plain, 1.0)
    grow["N"] = grow["grow.two_speed_steps"].where(~plain, 0)
    per_seed = grow.groupby(["dataset", "r", "N", "seed"], as_index=False)[["cycle_taa", "wt_acc"]].mean()
    return summarise(per_seed, ["cycle_taa", "wt_acc"], by=("dataset", "r", "N"))
