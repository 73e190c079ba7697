"""Analysis layer: run metrics, statistics, tables and the MLP figure, on hand-built epochs tables."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from plasticity.metrics import run_metrics
from plasticity.plots import save_figure
from plasticity.plots.comparison import cycle_vs_ticket_figure
from plasticity.stats import mean_ci, summarise, welch, welch_table
from plasticity.tables import compactness_table, summary_table, welch_p_table, write_table

SETTINGS = ["iid_a", "split_b"]
METHODS = ["dense", "grow", "prune"]
COMPACTNESS = [20, 50]
SEEDS = [0, 1, 2]
CYCLES, EPOCHS_PER_CYCLE, TICKET_EPOCHS = 3, 2, 4


def cycle_base(setting, method, c, seed):
    return 0.5 + 0.05 * SETTINGS.index(setting) + 0.1 * METHODS.index(method) + 0.001 * c + 0.01 * seed


def ticket_base(setting, method, c, seed):
    return 0.4 + 0.05 * SETTINGS.index(setting) + 0.07 * METHODS.index(method) + 0.002 * c + 0.003 * seed


def epoch_rows(setting, method, c, seed, phase):
    """Cycle runs: test_acc = base + 0.01 epoch over 3 cycles of 2 epochs; tickets: base + 0.02 epoch, 4 epochs."""
    n_epochs = CYCLES * EPOCHS_PER_CYCLE if phase == "cycle" else TICKET_EPOCHS
    base, slope = (cycle_base, 0.01) if phase == "cycle" else (ticket_base, 0.02)
    return [
        {
            "setting": setting, "method": method, "c": c, "seed": seed, "phase": phase,
            "epoch": epoch, "cycle": (epoch - 1) // EPOCHS_PER_CYCLE + 1, "task": 1,
            "test_acc": base(setting, method, c, seed) + slope * epoch, "train_loss": 1.0, "lr": 0.01,
            "active_units": 512, "cycle_end": epoch % EPOCHS_PER_CYCLE == 0, "val_acc": math.nan,
            "device": "cpu",
        }
        for epoch in range(1, n_epochs + 1)
    ]


def make_epochs():
    rows = []
    for setting in SETTINGS:
        for method in METHODS:
            for seed in SEEDS:
                cycle_cs = [100] if method == "dense" else COMPACTNESS
                for c in cycle_cs:
                    rows += epoch_rows(setting, method, c, seed, "cycle")
                for c in COMPACTNESS:
                    rows += epoch_rows(setting, method, c, seed, "ticket")
    # Shuffled, so metrics must order by epoch rather than trust the row order.
    return pd.DataFrame(rows).sample(frac=1.0, random_state=0).reset_index(drop=True)


@pytest.fixture(scope="module")
def runs():
    return run_metrics(make_epochs(), COMPACTNESS)


def test_run_metrics_values(runs):
    full_dense = len(SETTINGS) * len(SEEDS)
    assert len(runs) == len(SETTINGS) * len(METHODS) * len(COMPACTNESS) * len(SEEDS) + full_dense
    row = runs.query("setting == 'split_b' and method == 'grow' and c == 20 and seed == 1").iloc[0]
    cycle, ticket = cycle_base("split_b", "grow", 20, 1), ticket_base("split_b", "grow", 20, 1)
    assert row.cycle_acc == pytest.approx(cycle + 0.06)  # last cycle end: epoch 6
    assert row.cycle_taa == pytest.approx(cycle + 0.01 * (2 + 4 + 6) / 3)  # cycle-end epochs only
    assert row.wt_acc == pytest.approx(ticket + 0.08)  # last ticket epoch: 4
    assert row.wt_taa == pytest.approx(ticket + 0.02 * 2.5)  # mean over ticket epochs 1..4
    assert row.delta_acc == pytest.approx(row.wt_acc - row.cycle_acc)
    assert row.delta_taa == pytest.approx(row.wt_taa - row.cycle_taa)


def test_dense_rows_reuse_the_full_training_run(runs):
    dense = runs.query("setting == 'iid_a' and method == 'dense' and seed == 2 and c != 100").set_index("c")
    assert list(dense.index) == COMPACTNESS
    for c in COMPACTNESS:
        assert dense.loc[c, "cycle_acc"] == pytest.approx(cycle_base("iid_a", "dense", 100, 2) + 0.06)
        assert dense.loc[c, "wt_acc"] == pytest.approx(ticket_base("iid_a", "dense", c, 2) + 0.08)


def test_full_dense_row_is_the_dense_run_itself_with_both_taa_readings(runs):
    row = runs.query("setting == 'split_b' and method == 'dense' and c == 100 and seed == 1").iloc[0]
    base = cycle_base("split_b", "dense", 100, 1)
    assert row.cycle_acc == row.wt_acc == pytest.approx(base + 0.06)
    assert row.cycle_taa == row.cycle_taa_ends == row.wt_taa_ends == pytest.approx(base + 0.01 * (2 + 4 + 6) / 3)
    assert row.wt_taa == row.wt_taa_epochs == row.cycle_taa_epochs == pytest.approx(base + 0.01 * 3.5)
    assert row.delta_acc == 0 and row.delta_taa == pytest.approx(row.wt_taa_epochs - row.cycle_taa_ends)


def test_a_study_without_dense_has_no_full_dense_rows():
    epochs = make_epochs()
    runs = run_metrics(epochs[epochs["method"] == "grow"], COMPACTNESS)
    assert len(runs) == len(SETTINGS) * len(COMPACTNESS) * len(SEEDS) and runs["setting"].notna().all()


def test_taa_reading_keys_pick_the_columns_behind_cycle_and_wt_taa():
    runs = run_metrics(make_epochs(), COMPACTNESS, cycle_taa="epochs", wt_taa="ends")
    row = runs.query("setting == 'iid_a' and method == 'grow' and c == 50 and seed == 2").iloc[0]
    cycle, ticket = cycle_base("iid_a", "grow", 50, 2), ticket_base("iid_a", "grow", 50, 2)
    assert row.cycle_taa == pytest.approx(cycle + 0.01 * 3.5)  # every epoch 1..6
    assert row.wt_taa == pytest.approx(ticket + 0.02 * 3)  # ticket cycle ends: epochs 2 and 4
    assert row.delta_taa == pytest.approx(row.wt_taa - row.cycle_taa)


def test_missing_ticket_raises_a_clear_error():
    epochs = make_epochs()
    lost = (epochs.phase == "ticket") & (epochs.setting == "iid_a") & (epochs.method == "grow") & (epochs.c == 20) & (
        epochs.seed == 1
    )
    with pytest.raises(ValueError, match="ticket run missing for iid_a/grow/c20/seed1"):
        run_metrics(epochs[~lost], COMPACTNESS)


def test_missing_dense_training_run_raises():
    epochs = make_epochs()
    lost = (epochs.phase == "cycle") & (epochs.method == "dense") & (epochs.seed == 0) & (epochs.setting == "iid_a")
    with pytest.raises(ValueError, match="cycle run missing for iid_a/dense/c20/seed0"):
        run_metrics(epochs[~lost], COMPACTNESS)


def test_mean_ci_is_a_student_t_interval():
    values = [1.0, 2.0, 4.0]
    mean = 7 / 3
    sd = math.sqrt(((1 - mean) ** 2 + (2 - mean) ** 2 + (4 - mean) ** 2) / 2)
    got_mean, half_width = mean_ci(values)
    assert got_mean == pytest.approx(mean)
    assert half_width == pytest.approx(stats.t.ppf(0.975, 2) * sd / math.sqrt(3))
    assert mean_ci(values, confidence=0.9)[1] == pytest.approx(stats.t.ppf(0.95, 2) * sd / math.sqrt(3))
    one_mean, one_ci = mean_ci([0.3])
    assert one_mean == 0.3 and math.isnan(one_ci)


def test_welch_matches_scipy_and_needs_two_values_per_side():
    a, b = [0.1, 0.4, 0.35, 0.2], [0.5, 0.45, 0.7]
    assert welch(a, b) == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue)
    assert math.isnan(welch([0.1], b))
    assert math.isnan(welch(a, [0.5]))


def test_summarise_and_welch_table_shapes(runs):
    summary = summarise(runs)
    assert len(summary) == len(SETTINGS) * (len(METHODS) * len(COMPACTNESS) + 1) * 6  # + Dense at c = 100
    assert set(summary["n"]) == {len(SEEDS)}
    welch_rows = welch_table(runs)
    assert len(welch_rows) == len(SETTINGS) * len(COMPACTNESS) * 3 * 4
    assert set(welch_rows["comparison"]) == {"grow_vs_dense", "grow_vs_prune", "dense_vs_prune"}
    row = welch_rows.query("setting == 'iid_a' and c == 50 and comparison == 'grow_vs_prune' and metric == 'wt_taa'")
    grow = runs.query("setting == 'iid_a' and c == 50 and method == 'grow'")["wt_taa"]
    prune = runs.query("setting == 'iid_a' and c == 50 and method == 'prune'")["wt_taa"]
    assert row["p"].iloc[0] == pytest.approx(stats.ttest_ind(grow, prune, equal_var=False).pvalue)


def test_summary_averages_each_seed_over_compactness_first(runs):
    tidy, formatted = summary_table(runs)
    per_seed = [np.mean([ticket_base("iid_a", "prune", c, s) + 0.08 for c in COMPACTNESS]) for s in SEEDS]
    row = tidy.query("setting == 'iid_a' and method == 'prune' and metric == 'wt_acc'").iloc[0]
    assert (row["mean"], row["ci"]) == pytest.approx(mean_ci(per_seed))
    assert list(formatted.columns) == ["Benchmark", "Method", "WT Final", "WT TAA", "ΔACC", "ΔTAA"]
    assert f"{100 * row['mean']:.2f} ± {100 * row['ci']:.2f}" in set(formatted["WT Final"])
    # Dense is the full network (c = 100), reported once like the papers do, not its pruned tickets.
    dense = tidy.query("setting == 'iid_a' and method == 'dense' and metric == 'wt_acc'").iloc[0]
    assert dense["mean"] == pytest.approx(np.mean([cycle_base("iid_a", "dense", 100, s) + 0.06 for s in SEEDS]))


@pytest.mark.parametrize(
    "build, tidy_rows, shown_rows",
    [
        (summary_table, len(SETTINGS) * len(METHODS) * 4, len(SETTINGS) * len(METHODS)),
        (compactness_table, len(SETTINGS) * (len(COMPACTNESS) * len(METHODS) + 1) * 6,
         len(SETTINGS) * (len(COMPACTNESS) * len(METHODS) + 1)),
        (welch_p_table, len(SETTINGS) * len(COMPACTNESS) * 3 * 4, len(SETTINGS) * len(COMPACTNESS) * 3),
    ],
)
def test_tables_are_written_in_three_formats(runs, tmp_path, build, tidy_rows, shown_rows):
    tidy, formatted = build(runs)
    assert len(formatted) == shown_rows
    stem = tmp_path / "tables" / "mlp_table"
    write_table(tidy, stem, "Caption with 50% and split_b", formatted)
    assert len(pd.read_csv(stem.with_suffix(".csv"))) == tidy_rows
    markdown = stem.with_suffix(".md").read_text().splitlines()
    assert markdown[0] == "Caption with 50% and split_b"
    assert len(markdown) == 2 + 2 + shown_rows  # caption, blank, header, rule, rows
    latex = stem.with_suffix(".tex").read_text()
    assert r"\toprule" in latex and r"\bottomrule" in latex
    assert latex.count(r"\\") == 1 + shown_rows  # header + rows
    assert r"split\_b" in latex and r"50\%" in latex
    assert sorted(p.name for p in stem.parent.iterdir()) == ["mlp_table.csv", "mlp_table.md", "mlp_table.tex"]


def test_cycle_vs_ticket_figure(runs, tmp_path):
    figure = cycle_vs_ticket_figure(runs, "split_b", "Split B (smoke scale)")
    assert len(figure.axes) == 3
    save_figure(figure, tmp_path / "fig.pdf", tmp_path / "fig.png")
    assert (tmp_path / "fig.pdf").stat().st_size > 0 and (tmp_path / "fig.png").stat().st_size > 0
    with pytest.raises(ValueError, match="no runs for setting"):
        cycle_vs_ticket_figure(runs, "unknown", "x")
    # a study of other methods draws the ones it has
    two_methods = cycle_vs_ticket_figure(runs[runs["method"] != "prune"], "split_b", "No Prune")
    assert "Prune" not in {text.get_text() for text in two_methods.legends[0].get_texts()}


def test_run_descriptors_tell_ablation_runs_apart():
    from plasticity.config import load_config, run_grid
    from plasticity.metrics import flat_fields, run_descriptors
    import yaml
    from pathlib import Path

    cfg = load_config(yaml.safe_load((Path(__file__).parents[1] / "config.yaml").read_text()))
    described = run_descriptors(run_grid(cfg, "paper", "cycles") + run_grid(cfg, "paper", "heuristics"))
    by_setting = described.groupby("setting").first()
    assert by_setting.loc["cifar100_iid_k20", "cycles"] == 20 and by_setting.loc["cifar100_iid_k20", "epochs_per_cycle"] == 10
    assert by_setting.loc["cifar100_iid_gradient", "grow.selector"] == "gradient"
    assert by_setting.loc["cifar100_iid", "grow.selector"] == "activation"
    assert not described.duplicated(["setting", "method", "seed"]).any()
    # every RunConfig field, not a chosen few: an ablation of any key can be grouped by it
    fields = {key for key in flat_fields(run_grid(cfg, "paper", "cycles")[0]) if key != "c"}
    assert fields | {"base_setting"} == set(described.columns)
    assert {"replay.cap", "lr_restart", "regularizer.kind"} <= set(described.columns)
