"""Tables of the GCG study (PROTOCOL.md section 8): per run its final accuracy, density, training cost relative to
one dense training and, for growth runs, where the growth phase stopped; per method and target density the
mean +- 95% CI over seeds with Welch tests of PathGrow against each baseline."""

from __future__ import annotations

import math

import pandas as pd

from plasticity.hooks import METHODS
from plasticity.stats import mean_ci, welch
from plasticity.tables import format_mean_ci, format_p, method_label

RUN_KEY = ["setting", "method", "c", "seed"]
REFERENCE = "pathgrow"


def gcg_runs(epochs: pd.DataFrame) -> pd.DataFrame:
    """One row per run: test accuracy after its training (the last epoch of phase "cycle"), its final density,
    epochs (growth phase included; IMP: every round), FLOPs of every step and their ratio to the FLOPs of the
    dense run of the same setting and seed; for growth runs the density and reason where growth stopped."""
    epochs = epochs.sort_values(["phase", "epoch"])
    rows = []
    for key, run in epochs.groupby(RUN_KEY):
        training, growth = run[run["phase"] == "cycle"], run[run["phase"] == "growth"]
        flops = training["train_flops"].iloc[-1] + (growth["train_flops"].iloc[-1] if len(growth) else 0.0)
        stop = growth["stop_reason"].fillna("").iloc[-1] if len(growth) else ""
        rows.append({**dict(zip(RUN_KEY, key)), "acc": training["test_acc"].iloc[-1],
                     "density": training["density"].iloc[-1], "epochs": len(run), "train_flops": flops,
                     "growth_epochs": len(growth), "stop_reason": stop})
    runs = pd.DataFrame(rows)
    dense = runs[runs["method"] == "dense"].set_index(["setting", "seed"])["train_flops"]
    reference = runs.set_index(["setting", "seed"]).index.map(dense.to_dict().get)
    runs["cost"] = runs["train_flops"] / pd.Series(reference, index=runs.index, dtype=float)
    return runs


def gcg_table(epochs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(tidy, formatted): per setting, method and target density c: n, accuracy, final density and cost
    (x one dense training) as mean +- 95% CI over seeds, mean epochs, the stopping reasons, and the Welch p
    of PathGrow against the method at the same c (accuracy)."""
    runs = gcg_runs(epochs)
    rows = []
    for (setting, method, c), group in runs.groupby(["setting", "method", "c"]):
        reference = runs[(runs["setting"] == setting) & (runs["method"] == REFERENCE) & (runs["c"] == c)]
        row = {"setting": setting, "method": method, "c": c, "n": len(group), "epochs": group["epochs"].mean(),
               "stop": ", ".join(sorted(set(group["stop_reason"]) - {""})),
               "p_vs_pathgrow": math.nan if method == REFERENCE else welch(reference["acc"], group["acc"])}
        for metric, scale in (("acc", 100), ("density", 100), ("cost", 1)):
            mean, ci = mean_ci(group[metric] * scale)
            row.update({metric: mean, f"{metric}_ci": ci})
        rows.append(row)
    tidy = pd.DataFrame(rows)
    order = {name: i for i, name in enumerate(METHODS)}
    tidy = tidy.sort_values(["setting", "c", "method"], key=lambda s: s.map(order) if s.name == "method" else s)
    formatted = pd.DataFrame({
        "Benchmark": tidy["setting"], "Target density (%)": tidy["c"],
        "Method": tidy["method"].map(method_label), "n": tidy["n"],
        "Accuracy (%)": [format_mean_ci(m, ci) for m, ci in zip(tidy["acc"], tidy["acc_ci"])],
        "Density (%)": [format_mean_ci(m, ci) for m, ci in zip(tidy["density"], tidy["density_ci"])],
        "Cost (x dense)": [format_mean_ci(m, ci) for m, ci in zip(tidy["cost"], tidy["cost_ci"])],
        "Epochs": tidy["epochs"].round(1), "Stopped by": tidy["stop"],
        "p vs PathGrow": ["" if method == REFERENCE else format_p(p) for method, p in zip(tidy["method"], tidy["p_vs_pathgrow"])],
    })
    return tidy.reset_index(drop=True), formatted.reset_index(drop=True)
