"""Per-run metrics of PROTOCOL.md section 4: Cycle ACC/TAA, WT ACC/TAA and Delta = WT - Cycle."""

from __future__ import annotations

import pandas as pd

from plasticity.config import base_setting

RUN_KEY = ["setting", "method", "c", "seed"]
METRICS = ["cycle_acc", "cycle_taa", "wt_acc", "wt_taa", "delta_acc", "delta_taa"]
CYCLE_METRICS = ["cycle_acc", "cycle_taa", "val_acc"]  # val_acc: validation accuracy at the end of the run
DENSE_TRAINING_C = 100  # dense trains once with every unit; its tickets are cut at each compactness


def _cycle_metrics(epochs: pd.DataFrame, validation: bool = False) -> pd.DataFrame:
    """Cycle ACC and TAA; with `validation`, also the final validation accuracy (NaN without a validation split)."""
    ends = epochs[(epochs["phase"] == "cycle") & epochs["cycle_end"].astype(bool)].sort_values("epoch")
    by_run = ends.groupby(RUN_KEY)
    metrics = {"cycle_acc": by_run["test_acc"].last(), "cycle_taa": by_run["test_acc"].mean()}
    if validation:
        metrics["val_acc"] = by_run["val_acc"].apply(lambda values: values.iloc[-1])
    return pd.DataFrame(metrics).reset_index()


def _ticket_metrics(epochs: pd.DataFrame) -> pd.DataFrame:
    ticket = epochs[epochs["phase"] == "ticket"].sort_values("epoch")
    by_run = ticket.groupby(RUN_KEY)["test_acc"]
    return pd.DataFrame({"wt_acc": by_run.last(), "wt_taa": by_run.mean()}).reset_index()


def _describe(rows: pd.DataFrame) -> str:
    return "; ".join(
        f"{r.setting}/{r.method}/c{r.c}/seed{r.seed}" for r in rows[RUN_KEY].itertuples(index=False)
    )


def run_metrics(epochs: pd.DataFrame, compactness: list[int], tickets: bool = True) -> pd.DataFrame:
    """One row per (setting, method, c, seed) with c in `compactness` (the runs table of SPEC.md).

    Dense's training run (c=100) supplies the cycle metrics of every dense row; its ticket at c
    supplies the WT metrics. Raises ValueError naming every run whose cycle or ticket is missing.
    A study without tickets (`tickets` false) gets the cycle metrics and the final validation accuracy only.
    """
    cycle = _cycle_metrics(epochs, validation=not tickets)
    is_dense = cycle["method"] == "dense"
    dense_cycle = (
        cycle[is_dense & (cycle["c"] == DENSE_TRAINING_C)]
        .drop(columns="c")
        .merge(pd.DataFrame({"c": compactness}), how="cross")
    )
    cycle = pd.concat([cycle[~is_dense & cycle["c"].isin(compactness)], dense_cycle])
    if not tickets:
        return cycle[RUN_KEY + CYCLE_METRICS].sort_values(RUN_KEY).reset_index(drop=True)

    ticket = _ticket_metrics(epochs)
    ticket = ticket[ticket["c"].isin(compactness)]

    runs = cycle.merge(ticket, on=RUN_KEY, how="outer", indicator=True)
    problems = []
    for side, missing in (("ticket", "left_only"), ("cycle", "right_only")):
        rows = runs[runs["_merge"] == missing]
        if len(rows):
            problems.append(f"{side} run missing for {_describe(rows)}")
    if problems:
        raise ValueError(
            f"run_metrics: {' | '.join(problems)} (dense rows read the c={DENSE_TRAINING_C} training run)"
        )

    runs["delta_acc"] = runs["wt_acc"] - runs["cycle_acc"]
    runs["delta_taa"] = runs["wt_taa"] - runs["cycle_taa"]
    return runs[RUN_KEY + METRICS].sort_values(RUN_KEY).reset_index(drop=True)


def run_descriptors(run_configs: list[dict]) -> pd.DataFrame:
    """The config values that tell runs of a study apart (one row per setting, method and seed), for
    analyses that group by them: dataset, model, cycles, epochs per cycle, Grow selector, allocation, stream,
    LR schedule, and the regulariser grid point with the setting it varies (base_setting)."""
    rows = [{"setting": run["setting"], "method": run["method"], "seed": run["seed"], "dataset": run["dataset"],
             "model": run["model"], "cycles": run["cycles"], "epochs_per_cycle": run["epochs_per_cycle"],
             "selector": run["grow"]["selector"], "allocation": run["allocation"], "stream": run["stream"],
             "lr_schedule": run["lr_schedule"], "base_setting": base_setting(run["setting"]),
             "regularizer": run["regularizer"]["kind"], "strength": run["regularizer"]["strength"],
             "head_strength": run["regularizer"]["head_strength"]} for run in run_configs]
    return pd.DataFrame(rows).drop_duplicates(["setting", "method", "seed"])
