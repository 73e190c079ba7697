"""SWR study analysis (PROTOCOL.md section 7): lambda selection on held-out data and the single-task table.

A runs table of an SWR study has one row per grid point (setting), method, c and seed, with `base_setting`
(the setting the grid varies), `regularizer.kind`, `regularizer.strength`, `regularizer.head_strength`, the
final test accuracy `cycle_acc` and the final validation accuracy `val_acc`.
"""

from __future__ import annotations

import pandas as pd

from plasticity.config import DATASET_NAMES, MODEL_NAMES
from plasticity.hooks import REGULARIZERS
from plasticity.stats import summarise
from plasticity.tables import percent_cells

REGULARIZER_LABELS = {name: entry.label for name, entry in REGULARIZERS.items()}
SCHEDULE_LABELS = {"constant": "constant", "step": "step decay", "cosine": "cosine"}
SELECTION_KEY = ["base_setting", "method", "c", "regularizer.kind"]
# runs.csv names the regulariser's fields by their dotted RunConfig names; the table by their own
TABLE_NAMES = {"regularizer.kind": "regularizer", "regularizer.strength": "strength",
               "regularizer.head_strength": "head_strength"}


def select_strengths(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs of the selected grid point of each base setting, method, c and regulariser: the one with the
    best mean final validation accuracy over seeds (the test set plays no part; ties go to the first in
    setting-name order). Raises ValueError when a run has no validation accuracy."""
    missing = runs[runs["val_acc"].isna()]
    if len(missing):
        raise ValueError(f"select_strengths: no validation accuracy for settings {sorted(missing['setting'].unique())}; "
                         "set val_fraction > 0")
    points = runs.groupby(SELECTION_KEY + ["setting"], as_index=False)["val_acc"].mean()
    best = points.loc[points.groupby(SELECTION_KEY)["val_acc"].idxmax()]
    return runs.merge(best[SELECTION_KEY + ["setting"]], on=SELECTION_KEY + ["setting"])


def single_task_table(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Final test accuracy per model, dataset, LR schedule and regulariser at its selected lambda, mean ± 95% CI
    over seeds. Returns (tidy: one row per base setting x regulariser with the selected lambdas, formatted:
    one row per model, dataset and schedule, one column per regulariser)."""
    selected = select_strengths(runs).rename(columns=TABLE_NAMES)
    tidy = summarise(selected, ["cycle_acc"], by=("base_setting", "model", "dataset", "lr_schedule", "regularizer",
                                                  "setting", "strength", "head_strength"))
    tidy = tidy.rename(columns={"setting": "selected_setting"}).drop(columns="metric")
    cells = tidy.assign(cell=percent_cells(tidy))
    formatted = cells.pivot(index=["model", "dataset", "lr_schedule"], columns="regularizer", values="cell")
    formatted = formatted[[kind for kind in REGULARIZER_LABELS if kind in formatted.columns]]
    formatted = formatted.rename(columns=REGULARIZER_LABELS).reset_index().fillna("")
    formatted.columns.name = None
    formatted["model"] = formatted["model"].map(MODEL_NAMES)
    formatted["dataset"] = formatted["dataset"].map(lambda name: DATASET_NAMES.get(name, name))
    formatted["lr_schedule"] = formatted["lr_schedule"].map(SCHEDULE_LABELS)
    return tidy, formatted.rename(columns={"model": "Model", "dataset": "Dataset", "lr_schedule": "LR schedule"})
