"""The builder of each output kind of plasticity.outputs: it gets the kind's tables (concatenated over the
settings the output shows) and the Output, and returns (tidy, formatted) for a table or a Figure."""

from __future__ import annotations

import pandas as pd

from plasticity.output_kinds import KINDS
from plasticity.outputs import Output


def build(output: Output, tables: dict[str, pd.DataFrame], cfg: dict, files: dict):
    """The table ((tidy, formatted)) or Figure of a declared output, by its kind's builder below."""
    return globals()[KINDS[output.kind].builder](tables, output, cfg, files)


def summary(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.tables import summary_table
    return summary_table(tables["runs"])


def compactness(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.tables import compactness_table
    return compactness_table(tables["runs"])


def welch(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.tables import welch_p_table
    return welch_p_table(tables["runs"])


def selector_table(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.diagnostics import heuristic_table
    return heuristic_table(tables["runs"])


def allocation_table(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.diagnostics import allocation_table as table
    return table(tables["runs"])


def swr_single_task(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.swr import single_task_table
    return single_task_table(tables["runs"])


def cycle_vs_ticket(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.plots.comparison import cycle_vs_ticket_figure
    return cycle_vs_ticket_figure(tables["runs"], output.setting, output.title)


def birth_parity(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.plots.diagnostics import birth_parity_figure
    return birth_parity_figure(tables["probe"], output.title)


def post_birth(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.plots.diagnostics import post_birth_figure
    return post_birth_figure(tables["probe"], output.title)


def taa_vs_parity(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.plots.diagnostics import taa_vs_parity_figure
    return taa_vs_parity_figure(tables["probe"], tables["runs"], output.title, cfg["metrics"]["early_parity_epochs"])


def intervention_table(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.diagnostics import intervention_table as table
    return table(tables["runs"], tables["probe"], cfg["metrics"]["early_parity_epochs"])


def intervention_synthesis(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.plots.diagnostics import intervention_synthesis_figure
    return intervention_synthesis_figure(tables["probe"], tables["runs"], output.title,
                                         cfg["metrics"]["early_parity_epochs"])


def rsl_parity(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.plots.diagnostics import rsl_parity_figure
    return rsl_parity_figure(tables["probe"], tables["runs"], output.title)


def two_speed_sweep(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.plots.diagnostics import two_speed_sweep_figure
    return two_speed_sweep_figure(tables["runs"], output.title)


def geometry(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.plots.diagnostics import parity_geometry_figure
    return parity_geometry_figure(tables["probe"], output.title)


def heuristic(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.plots.diagnostics import heuristic_figure
    return heuristic_figure(tables["probe"], tables["runs"], output.title)


def cycles(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.plots.diagnostics import cycles_figure
    return cycles_figure(tables["runs"], output.title)


def age(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.plots.diagnostics import age_figure
    return age_figure(tables["probe"], tables["runs"], output.title)


def parity(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.plots.diagnostics import swr_grow_figure
    return swr_grow_figure(tables["probe"], tables["runs"], output.title)


def accuracy(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.plots.swr import accuracy_curves_figure
    return accuracy_curves_figure(tables["epochs"], tables["runs"], output.title)


def norms(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.plots.swr import weight_norms_figure
    return weight_norms_figure(tables["norms"], tables["epochs"], tables["runs"], output.title)


def gcg_table(tables, output: Output, cfg: dict, files: dict):
    from plasticity.gcg import gcg_table as table
    return table(tables["epochs"])


def gcg_density(tables, output: Output, cfg: dict, files: dict):
    from plasticity.plots.gcg import accuracy_density_figure
    return accuracy_density_figure(tables["epochs"], output.title)


def gcg_cost(tables, output: Output, cfg: dict, files: dict):
    from plasticity.plots.gcg import accuracy_cost_figure
    return accuracy_cost_figure(tables["epochs"], output.title)


def gcg_stopping(tables, output: Output, cfg: dict, files: dict):
    from plasticity.plots.gcg import stopping_figure
    return stopping_figure(tables["epochs"], output.title)


def readings_table(tables, output: Output, cfg: dict, files: dict):
    from plasticity.readings import readings_table as table
    runs, default, published = _readings(tables, output, cfg, files)
    return table(runs, cfg, output.scale, default, published, cfg["scales"][output.scale]["protocol"])


def readings_figure(tables, output: Output, cfg: dict, files: dict):
    from plasticity.plots.scorecard import readings_figure as figure
    from plasticity.readings import READING_METRICS, readings_table as table
    from plasticity.tables import mean_over_compactness

    runs, default, published = _readings(tables, output, cfg, files)
    tidy, _ = table(runs, cfg, output.scale, default, published, cfg["scales"][output.scale]["protocol"])
    per_seed = mean_over_compactness(runs, list(READING_METRICS))
    per_seed[list(READING_METRICS)] *= 100
    return figure(tidy, per_seed, output.title)


def _readings(tables, output: Output, cfg: dict, files: dict):
    """The runs of the settings the readings show (their first is the default the others vary; another study
    may lend its runs of them), and the published summary of the benchmark the default runs at the protocol scale."""
    from plasticity.metrics import RUN_KEY
    from plasticity.scorecard import load_mapping, published_summary

    runs = tables["runs"]
    runs = runs[runs["setting"].isin(output.settings)].drop_duplicates(RUN_KEY)
    default = output.settings[0]
    return runs, default, published_summary(load_mapping(files["mapping"]), cfg, default)


def _benchmark_titles(cfg: dict, output: Output) -> dict[str, str]:
    from plasticity.config import base_setting, model_title
    return {base_setting(setting): model_title(cfg, output.scale, base_setting(setting)) for setting in output.settings}


def continual_table(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.continual import continual_table as table
    return table(tables["runs"], _benchmark_titles(cfg, output))


def continual_lrs(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.continual import lr_table
    return lr_table(tables["runs"], _benchmark_titles(cfg, output))


def continual_figure(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.plots.continual import metric_figure
    return metric_figure(tables["runs"], "avg_acc", _benchmark_titles(cfg, output), output.title)


def continual_early_figure(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.plots.continual import metric_figure
    return metric_figure(tables["runs"], "early_taa", _benchmark_titles(cfg, output), output.title)


def activation_deltas(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.config import base_setting, run_config
    from plasticity.continual import activation_deltas as deltas
    from plasticity.plots.continual import delta_figure
    bases = {base_setting(setting) for setting in output.settings}
    metric_of = {base: "avg_acc" if run_config(cfg, output.scale, base, "dense", 100, 1)["online"]["enabled"]
                 else "cycle_acc" for base in bases}
    return delta_figure(deltas(tables["runs"], metric_of), _benchmark_titles(cfg, output), output.title)


def benchmarks_table(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.continual import benchmarks_table as table
    return table(cfg, output.scale, list(output.studies))


def rsl_table(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.continual import rsl_table as table
    return table(cfg, output.scale, list(output.studies))


def online_curves(tables: dict[str, pd.DataFrame], output: Output, cfg: dict, files: dict):
    from plasticity.plots.continual import online_curves as figure
    return figure(tables["tasks"], tables["runs"], output.title)
