"""The protocol-readings table: every reading of what a protocol leaves open, measured beside the published band.

A reading is a setting that differs from the default setting of its benchmark in the keys it names (config.yaml,
`readings` studies). Each (reading, method) row gives WT Final, both readings of WT TAA, Cycle ACC and Delta ACC
(Grow and Prune: each seed averaged over c; Dense: the full network), with the published summary of the
benchmark beside it. Every reading tried is a row, the ones far from the published numbers included.
"""

from __future__ import annotations

import pandas as pd

from plasticity.config import run_config
from plasticity.metrics import DENSE_TRAINING_C, RUN_KEY
from plasticity.scorecard import STAND_IN, interval_verdict
from plasticity.stats import summarise
from plasticity.tables import mean_over_compactness, method_label, percent_cells

READING_METRICS = {"wt_acc": "WT Final", "wt_taa_epochs": "WT TAA (epochs)", "wt_taa_ends": "WT TAA (cycle ends)",
                   "cycle_acc": "Cycle ACC", "delta_acc": "ΔACC"}
PUBLISHED_METRICS = {"wt_acc": "wt_acc", "wt_taa_epochs": "wt_taa", "delta_acc": "delta_acc"}  # ours -> published


def _flat(values: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def reading_keys(cfg: dict, scale: str, setting: str, default: str) -> str:
    """The keys in which `setting` differs from `default` at `scale`, e.g. 'replay.cap: 0'; 'default' for none."""
    ours, base = (_flat(run_config(cfg, scale, name, "dense", DENSE_TRAINING_C, 1)) for name in (setting, default))
    differing = [f"{key}: {ours[key]}" for key in ours if key != "setting" and ours[key] != base[key]]
    return ", ".join(differing) or "default"


def readings_table(runs: pd.DataFrame, cfg: dict, scale: str, default: str, published: pd.DataFrame,
                   protocol: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(tidy: one row per reading x method x metric, in percent, with the published value and a verdict;
    formatted: one row per reading x method). `published` is scorecard.published_summary of the benchmark."""
    runs = runs.drop_duplicates(RUN_KEY)  # a study's runs may be another's (the default setting is in both)
    per_seed = mean_over_compactness(runs, list(READING_METRICS))
    tidy = summarise(per_seed.assign(**{m: 100 * per_seed[m] for m in READING_METRICS}), list(READING_METRICS),
                     by=("setting", "method"))
    tidy["reading"] = tidy["setting"].map(lambda setting: reading_keys(cfg, scale, setting, default))
    lookup = published.set_index(["method", "metric"])
    rows = []
    for row in tidy.itertuples(index=False):
        key = (row.method, PUBLISHED_METRICS.get(row.metric))
        mean, ci = (lookup.loc[key, "mean"], lookup.loc[key, "ci"]) if key in lookup.index else (float("nan"),) * 2
        verdict = "" if pd.isna(mean) else interval_verdict(row.mean, row.ci, mean, ci) if protocol else STAND_IN
        rows.append({"published_mean": mean, "published_ci": ci, "verdict": verdict})
    tidy = pd.concat([tidy.reset_index(drop=True), pd.DataFrame(rows)], axis=1)
    order = {setting: i for i, setting in enumerate(dict.fromkeys(runs["setting"]))}
    tidy = tidy.sort_values(["setting", "method"], key=lambda col: col.map(order) if col.name == "setting" else col)
    return tidy.reset_index(drop=True), _formatted(tidy)


def _formatted(tidy: pd.DataFrame) -> pd.DataFrame:
    cells = tidy.assign(cell=percent_cells(tidy.assign(mean=tidy["mean"] / 100, ci=tidy["ci"] / 100)))
    wide = cells.pivot(index=["setting", "reading", "method", "n"], columns="metric", values="cell")
    wide = wide[list(READING_METRICS)].rename(columns=READING_METRICS).reset_index()
    published = tidy[tidy["metric"].isin(list(PUBLISHED_METRICS))].dropna(subset=["published_mean"])
    shown = published.assign(cell=[f"{m:.2f}" if pd.isna(c) else f"{m:.2f} ± {c:.2f}"
                                   for m, c in zip(published["published_mean"], published["published_ci"])])
    published_wide = shown.pivot(index=["setting", "method"], columns="metric", values="cell")
    published_wide = published_wide.reindex(columns=list(PUBLISHED_METRICS))
    published_wide = published_wide.rename(columns={m: f"published {READING_METRICS[m]}" for m in PUBLISHED_METRICS})
    verdicts = tidy[tidy["metric"] == "wt_acc"].set_index(["setting", "method"])["verdict"].rename("verdict (WT Final)")
    wide = wide.join(published_wide, on=["setting", "method"]).join(verdicts, on=["setting", "method"]).fillna("")
    order = list(dict.fromkeys(tidy["setting"]))
    wide = wide.sort_values(["setting", "method"], key=lambda col: col.map(order.index) if col.name == "setting" else col)
    wide["method"] = wide["method"].map(method_label)
    wide.columns.name = None
    return wide.rename(columns={"setting": "Setting", "reading": "Reading", "method": "Method"}).reset_index(drop=True)
