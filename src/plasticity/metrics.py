"""Per-run metrics of PROTOCOL.md section 4: Cycle ACC/TAA, WT ACC/TAA and Delta = WT - Cycle."""

from __future__ import annotations

import pandas as pd

from plasticity.config import base_setting

RUN_KEY = ["setting", "method", "c", "seed"]
METRICS = ["cycle_acc", "cycle_taa", "wt_acc", "wt_taa", "delta_acc", "delta_taa"]
# Both readings of each TAA (PROTOCOL.md section 4 defines Cycle TAA over the cycle ends and WT TAA over
# every epoch; config.yaml `metrics` picks the one that becomes cycle_taa / wt_taa, the other stays beside it).
TAA_READINGS = ["cycle_taa_ends", "cycle_taa_epochs", "wt_taa_ends", "wt_taa_epochs"]
DEVICES = ["cycle_device", "wt_device"]  # where the training run and the ticket trained (provenance)
DENSE_TRAINING_C = 100  # dense trains once with every unit; its tickets are cut at each compactness


def _accuracy_metrics(epochs: pd.DataFrame) -> pd.DataFrame:
    """Per run of `epochs`: final accuracy, TAA over its cycle ends and over all its epochs, final validation
    accuracy (NaN without a validation split), the device it trained on."""
    epochs = epochs.sort_values("epoch")
    by_run = epochs.groupby(RUN_KEY)
    ends = epochs[epochs["cycle_end"].astype(bool)].groupby(RUN_KEY)
    return pd.DataFrame({"acc": by_run["test_acc"].last(), "taa_ends": ends["test_acc"].mean(),
                         "taa_epochs": by_run["test_acc"].mean(),
                         "val_acc": by_run["val_acc"].apply(lambda values: values.iloc[-1]),
                         "device": by_run["device"].first()}).reset_index()


def _prefixed(metrics: pd.DataFrame, prefix: str) -> pd.DataFrame:
    return metrics.rename(columns={name: f"{prefix}_{name}" for name in ("acc", "taa_ends", "taa_epochs", "device")})


def _describe(rows: pd.DataFrame) -> str:
    return "; ".join(
        f"{r.setting}/{r.method}/c{r.c}/seed{r.seed}" for r in rows[RUN_KEY].itertuples(index=False)
    )


def run_metrics(epochs: pd.DataFrame, compactness: list[int], tickets: bool = True, cycle_taa: str = "ends",
                wt_taa: str = "epochs") -> pd.DataFrame:
    """One row per (setting, method, c, seed) with c in `compactness`, plus Dense at c = 100.

    Dense's training run (c=100) supplies the cycle metrics of every dense row; its ticket at c supplies the
    WT metrics. The row Dense c=100 is the full dense network (the papers' "Dense (100%)"): its WT metrics
    are its own run's, since retraining every unit from the same initialisation on the same data repeats
    that run. `cycle_taa` and `wt_taa` name the TAA reading ("ends" or "epochs") that the two columns hold.
    Raises ValueError naming every run whose cycle or ticket is missing. A study without tickets gets NaN
    WT metrics outside Dense c=100.
    """
    cycle = _prefixed(_accuracy_metrics(epochs[epochs["phase"] == "cycle"]), "cycle")
    is_full_dense = (cycle["method"] == "dense") & (cycle["c"] == DENSE_TRAINING_C)
    full_dense = cycle[is_full_dense].copy()
    for name in ("acc", "taa_ends", "taa_epochs", "device"):
        full_dense[f"wt_{name}"] = full_dense[f"cycle_{name}"]
    levels = [c for c in compactness if c != DENSE_TRAINING_C]
    dense_at_c = cycle[is_full_dense].drop(columns="c").merge(pd.DataFrame({"c": levels}), how="cross")
    cycle = pd.concat([cycle[(cycle["method"] != "dense") & cycle["c"].isin(compactness)], dense_at_c])
    if tickets:
        ticket = _prefixed(_accuracy_metrics(epochs[epochs["phase"] == "ticket"]), "wt").drop(columns="val_acc")
        runs = cycle.merge(ticket[ticket["c"].isin(compactness)], on=RUN_KEY, how="outer", indicator=True)
        problems = []
        for side, missing in (("ticket", "left_only"), ("cycle", "right_only")):
            rows = runs[runs["_merge"] == missing]
            if len(rows):
                problems.append(f"{side} run missing for {_describe(rows)}")
        if problems:
            raise ValueError(
                f"run_metrics: {' | '.join(problems)} (dense rows read the c={DENSE_TRAINING_C} training run)"
            )
        cycle = runs.drop(columns="_merge")
    runs = pd.concat([cycle, full_dense]).reindex(columns=RUN_KEY + ["cycle_acc", "wt_acc", "val_acc", *TAA_READINGS,
                                                                    *DEVICES])
    runs["cycle_taa"] = runs[f"cycle_taa_{cycle_taa}"]
    runs["wt_taa"] = runs[f"wt_taa_{wt_taa}"]
    runs["delta_acc"] = runs["wt_acc"] - runs["cycle_acc"]
    runs["delta_taa"] = runs["wt_taa"] - runs["cycle_taa"]
    return runs[RUN_KEY + METRICS + TAA_READINGS + ["val_acc", *DEVICES]].sort_values(RUN_KEY).reset_index(drop=True)


def flat_fields(run: dict, prefix: str = "") -> dict:
    """A RunConfig dict with its nested blocks flattened to dotted names (grow.selector, regularizer.kind, ...)."""
    flat = {}
    for key, value in run.items():
        if isinstance(value, dict):
            flat.update(flat_fields(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value) if isinstance(value, list) else value
    return flat


def run_descriptors(run_configs: list[dict]) -> pd.DataFrame:
    """Every RunConfig field of the runs (one row per setting, method and seed; the compactness is the runs
    table's own column), nested fields by dotted name, and the setting a regulariser grid point varies
    (base_setting): analyses can group by any field without a list of them here."""
    rows = [{**{key: value for key, value in flat_fields(run).items() if key != "c"},
             "base_setting": base_setting(run["setting"])} for run in run_configs]
    return pd.DataFrame(rows).drop_duplicates(["setting", "method", "seed"])
