"""[SP] Section 6, the continual benchmarks: each run's average accuracy and Early-task TAA from its rows per task
(tasks.csv, plasticity.metrics_hooks.TaskOnlineAccuracy), the learning rate each method takes from the grid, Table 14
and the activation control's RSL - ReLU deltas.

A continual setting is `<benchmark>[-<variant>]-lr<lr>` (plasticity.config.grid_points): the variant names the
intervention or activation (none: plain Dense, Prune, Grow under ReLU), the suffix the grid's learning rate.
"""

from __future__ import annotations

import math

import pandas as pd

from plasticity.config import DENSE_C, grid_points, model_title, run_config, study_plan, variant_setting
from plasticity.metrics import DENSE_TRAINING_C, RUN_KEY
from plasticity.stats import mean_ci, summarise
from plasticity.run import RunConfig
from plasticity.tables import METHOD_LABELS, format_percent

CONTINUAL_METRICS = ["avg_acc", "early_taa"]
METRIC_LABELS = {"avg_acc": "Avg. Acc.", "early_taa": "Early-task TAA"}
VARIANT_LABELS = {"none": "", "rsl": "RSL", "two_speed": "Two-Speed", "transplant": "Moment Transplant",
                  "gradmax": "GradMax", "net2wider": "Net2Wider"}
METHOD_ORDER = ["dense", "prune", "grow"]
VARIANT_ORDER = list(VARIANT_LABELS)
# The selection of Table 14 ([SP]: "best LR by Avg. Acc. among {0.01, 0.001, 0.0001}"), per benchmark, method,
# variant and c, on the mean over seeds.
SELECTION_KEY = ["base_setting", "variant", "method", "c"]


def task_metrics(tasks: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Per run of `tasks`: avg_acc, the stream's average accuracy (online: pooled correct / samples over its tasks,
    TAOA; task_test: the mean test accuracy at the tasks' ends), and early_taa, the pooled online accuracy over the
    first steps of each task; both over the tasks with the most classes only where the run's
    `online.largest_tasks_only` says (5+1: the hard tasks). Fractions, like every accuracy of runs.csv."""
    readings = runs.drop_duplicates(["setting", "method", "seed"]).set_index(["setting", "method", "seed"])
    rows = []
    for key, frame in tasks.groupby(RUN_KEY, sort=True):
        reading = readings.loc[(key[0], key[1], key[3])]
        if reading["online.largest_tasks_only"]:
            frame = frame[frame["task_classes"] == frame["task_classes"].max()]
        if reading["online.average"] == "task_test":
            average = frame["test_acc"].mean()
        else:
            average = frame["correct"].sum() / frame["samples"].sum()
        rows.append({**dict(zip(RUN_KEY, key)), "avg_acc": average,
                     "early_taa": frame["early_correct"].sum() / frame["early_samples"].sum()})
    return pd.DataFrame(rows, columns=RUN_KEY + CONTINUAL_METRICS)


def variant_of(run: pd.Series) -> str:
    """The variant a continual setting runs: what lies between its benchmark and its LR suffix."""
    rest = run["setting"][len(run["base_setting"]):].removesuffix(f"-lr{run['lr']:g}").lstrip("-")
    return rest or "none"


def method_name(method: str, variant: str) -> str:
    """Table 14's name of a method and variant, e.g. 'Grow+Moment Transplant'."""
    label = METHOD_LABELS.get(method, method)
    return f"{label}+{VARIANT_LABELS[variant]}" if variant != "none" else label


def continual_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs rows that belong to a trained run (Dense at c = 100 only: run_metrics repeats it at every c), with
    their variant and Table 14 method name."""
    rows = runs[(runs["method"] != "dense") | (runs["c"] == DENSE_TRAINING_C)].copy()
    rows["variant"] = rows.apply(variant_of, axis=1)
    rows["method_name"] = [method_name(m, v) for m, v in zip(rows["method"], rows["variant"])]
    return rows


def lr_selection(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per benchmark, variant, method, c and LR of the grid: mean avg_acc over seeds, the seeds, and
    `selected` for the LR with the highest mean (the first in the grid on a tie)."""
    rows = continual_runs(runs)
    table = (rows.groupby(SELECTION_KEY + ["method_name", "lr"], sort=True)
             .agg(mean_avg_acc=("avg_acc", "mean"), n=("avg_acc", "size")).reset_index())
    best = table.sort_values(["mean_avg_acc", "lr"], ascending=[False, False]).groupby(SELECTION_KEY).head(1)
    table["selected"] = table.index.isin(best.index)
    return table


def selected_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs at each benchmark, variant, method and c's selected LR."""
    selection = lr_selection(runs)
    chosen = selection[selection["selected"]][SELECTION_KEY + ["lr"]]
    return continual_runs(runs).merge(chosen, on=SELECTION_KEY + ["lr"], validate="many_to_one")


def _order(table: pd.DataFrame) -> pd.DataFrame:
    table = table.assign(_method=table["method"].map(METHOD_ORDER.index), _variant=table["variant"].map(VARIANT_ORDER.index))
    return table.sort_values(["base_setting", "c", "_method", "_variant"]).drop(columns=["_method", "_variant"])


def continual_table(runs: pd.DataFrame, titles: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Table 14: Avg. Acc. and Early-task TAA (mean ± 95% CI over seeds, %) per benchmark, c and method, each at its
    selected LR (shown); Dense once, at c = 100. `titles`: benchmark (base setting) -> the name shown."""
    chosen = selected_runs(runs)
    tidy = summarise(chosen, CONTINUAL_METRICS, by=("base_setting", "variant", "method", "method_name", "c", "lr"))
    tidy = _order(tidy)
    wide = tidy.pivot_table(index=["base_setting", "c", "method", "variant", "method_name", "lr", "n"],
                            columns="metric", values=["mean", "ci"], aggfunc="first", sort=False)
    formatted = pd.DataFrame({
        "Benchmark": [titles[b] for b, *_ in wide.index],
        "c (%)": [c for _, c, *_ in wide.index],
        "Method": [name for *_, name, _, _ in wide.index],
        "LR": [f"{lr:g}" for *_, lr, _ in wide.index],
        "Seeds": [n for *_, n in wide.index],
        **{METRIC_LABELS[m]: [format_percent(mean, ci) for mean, ci in zip(wide[("mean", m)], wide[("ci", m)])]
           for m in CONTINUAL_METRICS},
    })
    return tidy.reset_index(drop=True), formatted


def lr_table(runs: pd.DataFrame, titles: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The LR selection: mean Avg. Acc. of every grid point, the selected one marked."""
    table = _order(lr_selection(runs))
    grid = sorted(table["lr"].unique(), reverse=True)
    wide = table.pivot_table(index=["base_setting", "c", "method", "variant", "method_name"], columns="lr",
                             values="mean_avg_acc", sort=False)
    selected = table[table["selected"]].set_index(["base_setting", "c", "method", "variant", "method_name"])["lr"]
    formatted = pd.DataFrame({
        "Benchmark": [titles[b] for b, *_ in wide.index],
        "c (%)": [c for _, c, *_ in wide.index],
        "Method": [key[-1] for key in wide.index],
        **{f"LR {lr:g}": [f"{100 * v:.2f}" + (" *" if selected[key] == lr else "") for key, v in wide[lr].items()]
           for lr in grid},
    })
    return table.reset_index(drop=True), formatted


def activation_deltas(runs: pd.DataFrame, metric_of: dict[str, str]) -> pd.DataFrame:
    """RSL - ReLU of each benchmark's headline metric (`metric_of`: base setting -> runs column, e.g. avg_acc for a
    stream, cycle_acc for an i.i.d. benchmark), each activation at its selected LR (a setting without an LR grid has
    one), per method and c: the difference of the seed means and its half-width (the two 95% t half-widths combined
    in quadrature), in fractions."""
    rows = []
    for (base, method, c), group in selected_runs(runs).groupby(["base_setting", "method", "c"], sort=True):
        metric = metric_of[base]
        relu, rsl = (group.loc[group["variant"] == variant, metric].to_numpy() for variant in ("none", "rsl"))
        if len(relu) == 0 or len(rsl) == 0:
            continue
        (relu_mean, relu_ci), (rsl_mean, rsl_ci) = mean_ci(relu), mean_ci(rsl)
        rows.append({"base_setting": base, "method": method, "c": c, "metric": metric, "relu": relu_mean,
                     "rsl": rsl_mean, "delta": rsl_mean - relu_mean, "ci": (relu_ci ** 2 + rsl_ci ** 2) ** 0.5,
                     "n_relu": len(relu), "n_rsl": len(rsl)})
    return pd.DataFrame(rows)


def task_images(run: dict) -> list[int | None]:
    """Training images of each distinct kind of task (5+1: hard, easy), None where the config does not fix them."""
    if run["stream"] == "class_tasks":
        return [run["images_per_class"] * k if run["images_per_class"] else None for k in run["task_classes"]]
    if run["stream"] == "split":
        return [run["train_subset"] // run["tasks"] if run["train_subset"] else None]
    return [run["train_subset"] or None]


def task_data(run: dict) -> str:
    """What a task of the stream trains on, in words."""
    if run["stream"] == "class_tasks":
        per_class = f"{run['images_per_class']:,} images a class" if run["images_per_class"] else "all their images"
        labels = "labelled 0..k-1" if run["task_labels"] == "local" else "their own labels"
        return f"{' / '.join(map(str, run['task_classes']))} new classes, {per_class}, {labels}"
    if run["stream"] == "split":
        replay = ", TinyER replay" if run["replay"]["enabled"] else ""
        return f"{run['tasks']} class-incremental tasks, shared head{replay}"
    images = f"{run['train_subset']:,} fixed images" if run["train_subset"] else "every training image"
    return images + (", a new pixel permutation" if run["stream"] == "permuted" else ", fresh random labels")


def steps_per_task(run: dict) -> str:
    """Optimizer steps of a task of each kind (the first task of a replay stream: later ones add replay)."""
    if run["steps_per_epoch"]:
        return str(run["steps_per_epoch"] * run["epochs_per_cycle"])
    steps = [math.ceil(n / run["batch_size"]) * run["epochs_per_cycle"] if n else None for n in task_images(run)]
    return " / ".join("—" if n is None else f"{n:,}" for n in steps)


def benchmarks_table(cfg: dict, scale: str, studies: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """[SP] Table 2 as this config runs it at `scale`: per benchmark of the studies, its stream, model, batch,
    epochs and steps per task, tasks, edit boundaries, optimizer and LR grid (resolved run configs, so it cannot
    drift from what ran)."""
    rows = []
    for study in studies:
        plan = study_plan(cfg, scale, study)
        for base in plan["base_settings"]:
            if base in {row["setting"] for row in rows}:
                continue
            run = run_config(cfg, scale, base, "dense", DENSE_C, 1)
            config = RunConfig.from_dict(run)
            edits = [t + 1 for t in range(run["cycles"]) if config.edit_index(t) is not None]
            rows.append({"setting": base, "benchmark": model_title(cfg, scale, base), "task_data": task_data(run),
                         "batch": run["batch_size"], "epochs_per_task": run["epochs_per_cycle"],
                         "steps_per_task": steps_per_task(run), "tasks": run["cycles"],
                         "edit_tasks": ", ".join(map(str, edits)), "optimizer": run["optimizer"],
                         "lr_schedule": run["lr_schedule"],
                         "lrs": ", ".join(f"{lr:g}" for lr in plan.get("lrs") or [run["lr"]]),
                         "average": run["online"]["average"], "early_fraction": run["online"]["early_fraction"]})
    tidy = pd.DataFrame(rows)
    formatted = tidy.drop(columns="setting").rename(columns={
        "benchmark": "Benchmark", "task_data": "Per-task data", "batch": "Batch", "epochs_per_task": "Epochs/task",
        "steps_per_task": "Steps/task", "tasks": "Tasks", "edit_tasks": "Edits before tasks", "optimizer": "Optimizer",
        "lr_schedule": "LR schedule", "lrs": "LR grid", "average": "Avg. Acc.", "early_fraction": "Early window"})
    return tidy, formatted


def rsl_table(cfg: dict, scale: str, studies: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """[SP] Table 13 as this config runs it: the RSL settings (c, p, lower, upper) of every benchmark whose studies
    run an RSL variant, and the LR grid it is selected from (or the one LR)."""
    rows = []
    for study in studies:
        plan = study_plan(cfg, scale, study)
        for base in plan["base_settings"]:
            for name, overrides in grid_points(cfg, scale, plan, base):
                run = run_config(cfg, scale, variant_setting(base, name), "grow", DENSE_C, 1)
                if run["activation"] != "rsl" or base in {row["setting"] for row in rows}:
                    continue
                rows.append({"setting": base, "benchmark": model_title(cfg, scale, base), **run["rsl"],
                             "lrs": ", ".join(f"{lr:g}" for lr in plan.get("lrs") or [run["lr"]])})
    tidy = pd.DataFrame(rows)
    formatted = tidy.drop(columns="setting").rename(columns={"benchmark": "Benchmark", "lrs": "LR grid"})
    return tidy, formatted
