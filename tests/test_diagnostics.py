"""Newborn-diagnostics analysis, tables and figures, on hand-built probe and runs tables with known numbers."""

import math
import runpy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.figure import Figure
from scipy import stats

from plasticity.diagnostics import (
    allocation_table,
    birth_parity,
    event_local_parity,
    heuristic_table,
    intervention_table,
    layer_mean,
    post_birth_curves,
    prune_parity,
    two_speed_grid,
)
from plasticity.plots.diagnostics import (
    age_figure,
    birth_parity_figure,
    cycles_figure,
    heuristic_figure,
    intervention_synthesis_figure,
    parity_geometry_figure,
    post_birth_figure,
    rsl_parity_figure,
    taa_vs_parity_figure,
    two_speed_sweep_figure,
)
from plasticity.output_kinds import KINDS
from plasticity.outputs import Output
from plasticity.probes import PROBE_COLUMNS
from plasticity.stats import spearman
from plasticity.tables import write_table

SCRIPT = Path(__file__).resolve().parents[1] / "workflow" / "scripts" / "output.py"
RAW = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())
LAYERS = ["fc1", "fc2", "fc3"]
COMPACTNESS = [20, 50]
SEEDS = [1, 2]
EPOCHS_PER_CYCLE = 2
END_OFFSET = 5.0  # the End snapshot is shifted far off, so picking it by mistake shows
PRUNE_OFFSET = -3.0


def log_act(c, seed, event, age, layer):
    return 0.5 + 0.1 * LAYERS.index(layer) - 0.2 * event + 0.01 * seed + 0.05 * age + 0.001 * c


def log_grad(c, seed, event, age, layer):
    return -1.0 - 0.3 * LAYERS.index(layer) + 0.1 * event - 0.02 * seed + 0.1 * age


def probe_row(setting, method, c, seed, event, snapshot, age, layer, offset=0.0):
    la, lg = log_act(c, seed, event, age, layer) + offset, log_grad(c, seed, event, age, layer) + offset
    cohorts = ("pruned", "kept") if method == "prune" else ("newborn", "incumbent")
    return {"setting": setting, "method": method, "c": c, "seed": seed, "phase": "cycle", "event": event,
            "snapshot": snapshot, "epoch": event * EPOCHS_PER_CYCLE + age, "age": age, "layer": layer,
            "cohort_a": cohorts[0], "cohort_b": cohorts[1], "n_a": 4, "n_b": 8,
            "act_a": 0.5 * math.exp(la), "act_b": 0.5, "grad_a": 0.1 * math.exp(lg), "grad_b": 0.1,
            "act_parity": math.exp(la), "grad_parity": math.exp(lg), "log_act_parity": la, "log_grad_parity": lg}


def make_probe(setting="mnist_iid", cycles=3):
    """Grow: Post, one row per epoch of the following segment, End; Prune: Exit. Dense has no rows."""
    rows = []
    for c in COMPACTNESS:
        for seed in SEEDS:
            for event in range(1, cycles):
                for layer in LAYERS:
                    rows.append(probe_row(setting, "grow", c, seed, event, "post", 0, layer))
                    for age in range(1, EPOCHS_PER_CYCLE + 1):
                        rows.append(probe_row(setting, "grow", c, seed, event, "epoch", age, layer))
                    rows.append(probe_row(setting, "grow", c, seed, event, "end", EPOCHS_PER_CYCLE, layer, END_OFFSET))
                    rows.append(probe_row(setting, "prune", c, seed, event, "exit", 0, layer, PRUNE_OFFSET))
    return pd.DataFrame(rows, columns=PROBE_COLUMNS).sample(frac=1.0, random_state=0)


def cycle_taa(setting, method, c, seed):
    return 0.6 + 0.01 * seed + 0.001 * c + 0.05 * ["dense", "grow", "prune"].index(method) + 0.003 * len(setting)


def make_runs(setting="mnist_iid", cycles=3, selector="activation", allocation="neutral"):
    rows = []
    for method in ["dense", "grow", "prune"]:
        for c in COMPACTNESS:
            for seed in SEEDS:
                taa = cycle_taa(setting, method, c, seed)
                rows.append({"setting": setting, "method": method, "c": c, "seed": seed, "cycle_acc": taa + 0.02,
                             "cycle_taa": taa, "wt_acc": taa + 0.03, "wt_taa": taa - 0.01, "delta_acc": 0.01,
                             "delta_taa": -0.01, "dataset": "mnist", "model": "mlp", "cycles": cycles,
                             "epochs_per_cycle": EPOCHS_PER_CYCLE, "grow.selector": selector, "allocation": allocation})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def probe():
    return make_probe()


@pytest.fixture(scope="module")
def runs():
    return make_runs()


@pytest.fixture(scope="module")
def selector_study():
    """The same benchmark with the activation selector (setting mnist_iid) and the gradient one."""
    probe = pd.concat([make_probe("mnist_iid"), make_probe("mnist_iid_gradient")])
    runs = pd.concat([make_runs("mnist_iid"), make_runs("mnist_iid_gradient", selector="gradient")])
    return probe, runs


@pytest.fixture(scope="module")
def cycles_study():
    """The growth-cycle stress test: K = 3 and K = 5 cycles, one setting each."""
    probe = pd.concat([make_probe("mnist_k3", cycles=3), make_probe("mnist_k5", cycles=5)])
    runs = pd.concat([make_runs("mnist_k3", cycles=3), make_runs("mnist_k5", cycles=5)])
    return probe, runs


def test_layer_mean_averages_log_parities_over_layers(probe):
    mean = layer_mean(probe)
    assert set(mean["layer"]) == {"mean"}
    assert len(mean) == len(probe) // len(LAYERS)
    row = mean[(mean["method"] == "grow") & (mean["c"] == 20) & (mean["seed"] == 1) & (mean["event"] == 2)
               & (mean["snapshot"] == "epoch") & (mean["age"] == 1)].squeeze()
    expected_act = (0.5 + 0.1 - 0.4 + 0.01 + 0.05 + 0.02)  # layers 0, 1, 2 average to index 1
    expected_grad = (-1.0 - 0.3 + 0.2 - 0.02 + 0.1)
    assert row["log_act_parity"] == pytest.approx(expected_act)
    assert row["log_grad_parity"] == pytest.approx(expected_grad)
    assert row["act_parity"] == pytest.approx(math.exp(expected_act))
    assert row["grad_parity"] == pytest.approx(math.exp(expected_grad))


def test_birth_parity_reads_post_rows_per_layer_and_mean(probe):
    births = birth_parity(probe)
    assert set(births["method"]) == {"grow"}
    assert len(births) == len(COMPACTNESS) * len(SEEDS) * 2 * (len(LAYERS) + 1)
    for row in births.itertuples():
        layer = "fc2" if row.layer == "mean" else row.layer  # the layer mean equals the middle layer here
        assert row.log_act_parity == pytest.approx(log_act(row.c, row.seed, row.event, 0, layer))
        assert row.log_grad_parity == pytest.approx(log_grad(row.c, row.seed, row.event, 0, layer))


def test_prune_parity_reads_exit_rows(probe):
    prunes = prune_parity(probe)
    assert set(prunes["method"]) == {"prune"}
    assert len(prunes) == len(COMPACTNESS) * len(SEEDS) * 2 * (len(LAYERS) + 1)
    mean = prunes[prunes["layer"] == "mean"]
    expected = [log_act(r.c, r.seed, r.event, 0, "fc2") + PRUNE_OFFSET for r in mean.itertuples()]
    assert mean["log_act_parity"].to_numpy() == pytest.approx(expected)


def test_post_birth_curves_follow_age_without_the_end_snapshot(probe):
    curves = post_birth_curves(probe)
    assert set(curves["method"]) == {"grow"}
    assert sorted(curves["age"].unique()) == [0, 1, 2]
    assert len(curves) == len(COMPACTNESS) * len(SEEDS) * 2 * (EPOCHS_PER_CYCLE + 1)
    expected = [math.exp(log_grad(r.c, r.seed, r.event, r.age, "fc2")) for r in curves.itertuples()]
    assert curves["grad_parity"].to_numpy() == pytest.approx(expected)


def test_event_local_parity_averages_early_ages_and_joins_the_run(probe, runs):
    table = event_local_parity(probe, runs, early_epochs=1)
    assert len(table) == len(COMPACTNESS) * len(SEEDS)
    assert set(table["method"]) == {"grow"}
    for row in table.itertuples():
        # ages 0 and 1, events 1 and 2, layer mean = middle layer
        expected_act = np.mean([log_act(row.c, row.seed, e, a, "fc2") for e in (1, 2) for a in (0, 1)])
        expected_grad = np.mean([log_grad(row.c, row.seed, e, a, "fc2") for e in (1, 2) for a in (0, 1)])
        assert row.log_act_parity == pytest.approx(expected_act)
        assert row.log_grad_parity == pytest.approx(expected_grad)
        assert row.cycle_taa == pytest.approx(cycle_taa("mnist_iid", "grow", row.c, row.seed))
        assert row.cycle_acc == pytest.approx(row.cycle_taa + 0.02)


def test_event_local_parity_names_a_run_missing_from_runs(probe, runs):
    with pytest.raises(ValueError, match="no runs row"):
        event_local_parity(probe, runs[runs["seed"] != 2])


def test_spearman_matches_scipy():
    table = pd.DataFrame({"x": [0.1, 0.5, 0.7, 2.0, 3.0], "y": [1.0, 4.0, 9.0, 16.0, 100.0]})
    rho, p = spearman(table, "x", "y")
    assert rho == pytest.approx(1.0)
    assert p == pytest.approx(stats.spearmanr(table["x"], table["y"]).pvalue)
    assert all(math.isnan(v) for v in spearman(table.head(2), "x", "y"))


def test_heuristic_table_welch_p_matches_scipy(selector_study, tmp_path):
    _, runs = selector_study
    tidy, formatted = heuristic_table(runs)
    assert len(tidy) == len(COMPACTNESS) * 4
    row = tidy[(tidy["c"] == 20) & (tidy["metric"] == "cycle_taa")].squeeze()
    grow = runs[(runs["method"] == "grow") & (runs["c"] == 20)]
    activation = grow.loc[grow["grow.selector"] == "activation", "cycle_taa"]
    gradient = grow.loc[grow["grow.selector"] == "gradient", "cycle_taa"]
    assert row["p"] == pytest.approx(stats.ttest_ind(activation, gradient, equal_var=False).pvalue)
    assert row["mean_activation"] == pytest.approx(activation.mean())
    assert row["n_gradient"] == len(SEEDS)
    assert list(formatted.columns) == ["Dataset", "c (%)", "Metric", "Activation selector", "Gradient selector",
                                       "Welch p"]
    write_table(tidy, tmp_path / "heuristic", "Grow selectors", formatted)
    assert "Welch p" in (tmp_path / "heuristic.md").read_text()


def test_allocation_table_per_schedule_and_c():
    runs = pd.concat([make_runs("mnist_iid"), make_runs("mnist_fc1_protect", allocation="fc1_protect")])
    tidy, formatted = allocation_table(runs)
    assert len(tidy) == 2 * len(COMPACTNESS) * 4
    row = tidy[(tidy["allocation"] == "fc1_protect") & (tidy["c"] == 50) & (tidy["metric"] == "cycle_taa")].squeeze()
    assert row["mean"] == pytest.approx(np.mean([cycle_taa("mnist_fc1_protect", "grow", 50, s) for s in SEEDS]))
    assert list(formatted.columns) == ["Dataset", "c (%)", "Allocation", "Cycle ACC", "Cycle TAA", "WT ACC", "WT TAA"]
    assert len(formatted) == 2 * len(COMPACTNESS)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("draw, n_axes", [
    (lambda study: birth_parity_figure(study["probe"], "T"), len(COMPACTNESS)),
    (lambda study: post_birth_figure(study["probe"], "T"), 2 * len(COMPACTNESS)),
    (lambda study: taa_vs_parity_figure(study["probe"], study["runs"], "T"), 2),
    (lambda study: parity_geometry_figure(study["probe"], "T"), 1),
    (lambda study: heuristic_figure(*study["selector"], "T"), 2),
    (lambda study: cycles_figure(study["cycles"][1], "T"), 3),
    (lambda study: age_figure(*study["cycles"], "T"), 1),
])
def test_figures_draw_without_warnings(draw, n_axes, probe, runs, selector_study, cycles_study):
    study = {"probe": probe, "runs": runs, "selector": selector_study, "cycles": cycles_study}
    fig = draw(study)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == n_axes
    fig.canvas.draw()  # lay out and render, so drawing problems surface here


def test_single_benchmark_figures_refuse_pooled_settings(selector_study):
    probe, _ = selector_study
    with pytest.raises(ValueError, match="expected one setting"):
        birth_parity_figure(probe, "T")


@pytest.mark.parametrize("kind", ["birth_parity", "post_birth", "taa_vs_parity", "geometry", "heuristic", "cycles",
                                  "age", "selector_table"])
def test_the_output_script_builds_every_diagnostic_kind(kind, tmp_path, probe, runs, selector_study, cycles_study):
    tables = {"heuristic": selector_study, "selector_table": selector_study, "cycles": cycles_study,
              "age": cycles_study}.get(kind, (probe, runs))
    inputs = {}
    for name, table in zip(["probe", "runs"], tables):
        if name in KINDS[kind].reads:
            inputs[name] = [str(tmp_path / f"{name}.csv")]
            table.to_csv(inputs[name][0], index=False)
    output = Output("out", kind, "smoke", ("study",), None, (), "Study", "MNIST (smoke)", "Caption.", inputs)
    if KINDS[kind].form == "figure":
        files = SimpleNamespace(pdf=str(tmp_path / "out.pdf"), png=str(tmp_path / "out.png"))
    else:
        files = [str(tmp_path / f"out{suffix}") for suffix in (".csv", ".md", ".tex", ".provenance.json")]
    snakemake = SimpleNamespace(input=inputs, output=files, config=RAW,
                                params=SimpleNamespace(output=output, config_hash="0123456789abcdef"))
    runpy.run_path(str(SCRIPT), init_globals={"snakemake": snakemake})
    made = [tmp_path / "out.pdf", tmp_path / "out.png"] if KINDS[kind].form == "figure" else [tmp_path / "out.csv"]
    assert all(path.stat().st_size > 0 for path in made)
    assert (tmp_path / "out.provenance.json").exists()


GROW_DEFAULTS = {"grow.two_speed_factor": 1.0, "grow.two_speed_steps": 1955, "grow.transplant": False,
                 "grow.insertion": "init", "grow.selector": "activation", "activation": "relu", "momentum": 0.0}
INTERVENTION_SETTINGS = {  # setting -> (config columns, Cycle TAA shift)
    "conv": ({}, 0.0),
    "conv_momentum": ({"momentum": 0.9}, 0.01),
    "conv_transplant": ({"momentum": 0.9, "grow.transplant": True}, 0.04),
    "conv_rsl": ({"activation": "rsl"}, -0.03),
    "conv_two_speed": ({"grow.two_speed_factor": 5.0}, 0.02),
    "conv_two_speed_r2": ({"grow.two_speed_factor": 2.0, "grow.two_speed_steps": 782}, 0.005),
}


@pytest.fixture(scope="module")
def intervention_study():
    """Dense, Grow and Prune on the base setting, Grow alone on each intervention's setting (the probe's parities
    shifted per setting as well), with Cycle TAA shifted per intervention and a seed-dependent spread."""
    runs, probes = [], []
    for setting, (columns, shift) in INTERVENTION_SETTINGS.items():
        frame = make_runs(setting).drop(columns="grow.selector")
        if setting != "conv":
            frame = frame[frame["method"] == "grow"]
        frame = frame.assign(**{**GROW_DEFAULTS, **columns})
        frame["cycle_taa"] += shift + 0.004 * frame["seed"] ** 2 * (1 + shift)
        runs.append(frame)
        probe = make_probe(setting)
        probe = probe[probe["method"] == "grow"] if setting != "conv" else probe
        probes.append(probe.assign(log_grad_parity=probe["log_grad_parity"] + 10 * shift))
    return pd.concat(probes, ignore_index=True), pd.concat(runs, ignore_index=True)


def test_intervention_table_tests_each_variant_against_its_own_grow(intervention_study):
    probe, runs = intervention_study
    doubled = pd.concat([runs, runs[runs["setting"] == "conv"]])  # the convnet study lends its runs again
    tidy, formatted = intervention_table(doubled, probe, early_epochs=1)
    assert set(tidy["variant"]) == {"dense", "prune", "grow", "grow_momentum", "transplant", "rsl", "two_speed"}
    assert {"Grow + Two-Speed (r = 5, N = 1955)", "Grow + Two-Speed (r = 2, N = 782)"} <= set(tidy["label"])
    assert (tidy.loc[tidy["metric"] == "cycle_taa", "n"] == len(SEEDS)).all()  # lent runs counted once
    at_20 = tidy[(tidy["c"] == 20) & (tidy["metric"] == "cycle_taa")].set_index("setting")
    grow = runs[(runs["c"] == 20) & (runs["setting"] == "conv") & (runs["method"] == "grow")]["cycle_taa"]
    momentum = runs[(runs["c"] == 20) & (runs["setting"] == "conv_momentum")]["cycle_taa"]
    transplant = runs[(runs["c"] == 20) & (runs["setting"] == "conv_transplant")]["cycle_taa"]
    rsl = runs[(runs["c"] == 20) & (runs["setting"] == "conv_rsl")]["cycle_taa"]
    assert at_20.loc["conv_transplant", "reference"] == "grow_momentum"
    assert at_20.loc["conv_transplant", "p"] == pytest.approx(stats.ttest_ind(transplant, momentum, equal_var=False).pvalue)
    assert at_20.loc["conv_rsl", "p"] == pytest.approx(stats.ttest_ind(rsl, grow, equal_var=False).pvalue)
    assert at_20.loc["conv_transplant", "mean"] == pytest.approx(transplant.mean())
    at_20 = at_20.reset_index().set_index("variant")
    assert math.isnan(at_20.loc["grow", "p"]) and math.isnan(at_20.loc["dense", "p"])
    parity = tidy[(tidy["c"] == 20) & (tidy["metric"] == "log_grad_parity")].drop_duplicates("variant")
    parity = parity.set_index("variant")["mean"]
    early = event_local_parity(probe[probe["setting"] == "conv_rsl"], runs)
    assert parity["rsl"] == pytest.approx(early[early["c"] == 20]["log_grad_parity"].mean())
    assert parity["rsl"] < parity["grow"] < parity["transplant"] and math.isnan(parity["dense"])
    assert list(formatted["Method"][:4]) == ["Dense", "Prune", "Grow", "Grow (momentum 0.9)"]
    assert "(p " in formatted.set_index(["c (%)", "Method"]).loc[(20, "Grow + RSL"), "Cycle TAA"]


def test_two_speed_grid_puts_plain_grow_at_r_1_and_averages_each_seed_over_c(intervention_study):
    _, runs = intervention_study
    grid = two_speed_grid(runs)
    assert set(zip(grid["r"], grid["N"])) == {(1.0, 0), (5.0, 1955), (2.0, 782)}
    row = grid[(grid["r"] == 2.0) & (grid["metric"] == "cycle_taa")].squeeze()
    sweep = runs[runs["setting"] == "conv_two_speed_r2"]
    assert row["mean"] == pytest.approx(sweep.groupby("seed")["cycle_taa"].mean().mean()) and row["n"] == len(SEEDS)


def test_intervention_figures_draw(intervention_study):
    probe, runs = intervention_study
    assert isinstance(intervention_synthesis_figure(probe, runs, "Fashion-MNIST", 1), Figure)
    assert isinstance(rsl_parity_figure(probe, runs, "Fashion-MNIST"), Figure)
    assert isinstance(two_speed_sweep_figure(runs, "Fashion-MNIST"), Figure)
