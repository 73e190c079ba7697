"""The scorecard: every published row is mapped, verdicts follow the intervals, like is compared with like, the
claims test what they say, and every output carries its provenance."""

import copy
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from plasticity import provenance
from plasticity.claims import CLAIMS, claim_ids, claims_table
from plasticity.config import load_config
from plasticity.published import PUBLISHED_DIR, parse_lambdas, swr_published_pick
from plasticity.readings import reading_keys, readings_table
from plasticity.scorecard import (DIFFERENT, NOT_RUN, OVERLAP, SAME_SIDE, STAND_IN, WITHIN, Evidence,
                                  interval_verdict, load_mapping, mapping_problems, published_summary, scorecard)

ROOT = Path(__file__).resolve().parents[1]
MAPPING = load_mapping(ROOT / "workflow" / "scorecard.yaml")
CFG = load_config(yaml.safe_load((ROOT / "config.yaml").read_text()))
SEEDS = range(1, 11)


def test_every_published_row_is_mapped_to_an_output_that_exists():
    assert mapping_problems(MAPPING, CFG, PUBLISHED_DIR) == []


def test_a_missing_table_a_misspelt_setting_and_an_unmapped_method_are_reported():
    mapping = copy.deepcopy(MAPPING)
    del mapping["sp_table07_grow_heuristic.csv"]
    mapping["sp_table04_cifar100.csv"]["settings"]["CIFAR-100 (i.i.d.)"]["paper"] = "cifar100_idd"
    del mapping["sp_table10_cifar10.csv"]["methods"]["Prune"]
    problems = "\n".join(mapping_problems(mapping, CFG, PUBLISHED_DIR))
    assert "published/sp_table07_grow_heuristic.csv has no entry" in problems
    assert "maps to unknown setting cifar100_idd" in problems
    assert "sp_table10_cifar10.csv: method 'Prune' has no mapping" in problems


def test_every_text_claims_file_names_claims_that_exist():
    named = {claim for spec in MAPPING.values() for claim in spec.get("claims", [])}
    assert named and named <= claim_ids()
    assert len(claim_ids()) == len(CLAIMS)


@pytest.mark.parametrize(("ours", "ours_ci", "published", "published_ci", "verdict"), [
    (75.0, 1.0, 75.5, 1.0, WITHIN),
    (73.0, 1.5, 75.0, 1.0, OVERLAP),
    (70.0, 1.0, 75.0, 1.0, DIFFERENT),
    (75.0, 1.0, 75.5, math.nan, OVERLAP),  # an interval the paper omits counts as zero-width
    (75.0, math.nan, 75.0, math.nan, WITHIN),
])
def test_interval_verdicts(ours, ours_ci, published, published_ci, verdict):
    assert interval_verdict(ours, ours_ci, published, published_ci) == verdict


def mlp_runs(dense_full: float = 0.75, dense_ticket: float = 0.50, grow_wt: float = 0.751, spread: float = 0.01):
    """A Split-Fashion mlp runs table: Dense's full network at `dense_full`, its pruned tickets far below."""
    rng = np.random.default_rng(0)
    rows = []
    for seed in SEEDS:
        noise = spread * rng.standard_normal()
        rows.append({"setting": "split_fashion_er", "method": "dense", "c": 100, "seed": seed,
                     "cycle_acc": dense_full + noise, "wt_acc": dense_full + noise, "wt_taa": 0.84,
                     "cycle_taa": 0.8, "delta_acc": 0.0, "delta_taa": 0.04, "cycle_device": "cpu", "wt_device": "cpu"})
        for c in (20, 30, 40, 50):
            rows.append({"setting": "split_fashion_er", "method": "dense", "c": c, "seed": seed,
                         "cycle_acc": dense_full + noise, "wt_acc": dense_ticket + noise, "wt_taa": 0.6,
                         "cycle_taa": 0.8, "delta_acc": dense_ticket - dense_full, "delta_taa": -0.2})
            for method, wt in (("grow", grow_wt), ("prune", grow_wt + 0.002)):
                rows.append({"setting": "split_fashion_er", "method": method, "c": c, "seed": seed,
                             "cycle_acc": wt - 0.08 + noise, "wt_acc": wt + noise, "wt_taa": 0.85, "cycle_taa": 0.8,
                             "delta_acc": 0.08, "delta_taa": 0.05})
    return pd.DataFrame(rows)


def paper_card(runs: pd.DataFrame, scale: str = "paper") -> pd.DataFrame:
    card = scorecard(MAPPING, Evidence(CFG, scale, {"mlp": runs}))
    return card[(card["setting"] == "Split-Fashion (+Tiny ER)") & (card["table"] == "Table 3")]


def test_published_dense_is_compared_with_our_full_dense_network_not_its_pruned_ticket():
    card = paper_card(mlp_runs())
    dense = card[(card["method"] == "Dense") & (card["metric"] == "wt_final")].iloc[0]
    assert dense["ours_mean"] == pytest.approx(75.0, abs=1) and dense["our_method"] == "dense"
    assert dense["verdict"] == WITHIN
    grow = card[(card["method"] == "Grow") & (card["compactness"] == "30") & (card["metric"] == "delta_wt_c")].iloc[0]
    assert grow["ours_mean"] == pytest.approx(8.0) and grow["verdict"] == WITHIN  # published 7.21 ± 0.92


def test_a_number_far_from_the_published_one_is_different_and_a_stand_in_gets_no_verdict():
    card = paper_card(mlp_runs(dense_full=0.65))
    dense = card[(card["method"] == "Dense") & (card["metric"] == "wt_final")].iloc[0]
    assert dense["verdict"] == DIFFERENT and dense["difference"] == pytest.approx(-10, abs=1)
    quick = scorecard(MAPPING, Evidence(CFG, "quick", {"mlp": mlp_runs(dense_full=0.65)}))
    row = quick[(quick["table"] == "Table 3") & (quick["setting"] == "Split-Fashion (+Tiny ER)")].iloc[0]
    assert row["verdict"] == STAND_IN and "Fashion-MNIST" not in row["note"] and "training images 12000" in row["note"]


def test_rows_of_studies_and_settings_not_built_say_why():
    card = scorecard(MAPPING, Evidence(CFG, "paper", {"mlp": mlp_runs()}))
    mnist = card[(card["table"] == "Table 3") & (card["setting"] == "MNIST (IID)")]
    assert (mnist["verdict"] == NOT_RUN).all()  # mnist_iid is in the plan, but no runs of it here
    cifar = card[card["table"] == "Table 4"]
    assert (cifar["verdict"] == NOT_RUN).all() and cifar["note"].str.contains("study convnet is not built").all()
    continual = card[card["table"] == "Table 14"]
    assert len(continual) == 384 and continual["note"].str.contains("study continual is not built").all()


def test_table_14_rows_read_each_method_at_its_selected_lr_and_dense_as_the_full_network():
    rows = []
    for lr, grow_value in ((0.01, 0.30), (0.001, 0.50), (0.0001, 0.40)):
        for seed in (1, 2):
            common = {"seed": seed, "lr": lr, "base_setting": "cl_permuted_mnist", "early_taa": 0.1}
            rows += [{**common, "setting": f"cl_permuted_mnist-two_speed-lr{lr:g}", "method": "grow", "c": 20,
                      "avg_acc": grow_value + 0.01 * seed},
                     {**common, "setting": f"cl_permuted_mnist-lr{lr:g}", "method": "dense", "c": 100,
                      "avg_acc": 0.8 if lr == 0.01 else 0.2}]
    card = scorecard(MAPPING, Evidence(CFG, "paper", {"continual": pd.DataFrame(rows)}))
    table = card[(card["table"] == "Table 14") & (card["setting"] == "Permuted MNIST") & (card["metric"] == "avg_acc")]
    two_speed = table[(table["method"] == "Grow+TwoSpeed") & (table["compactness"] == "20")].iloc[0]
    assert two_speed["our_setting"] == "cl_permuted_mnist-two_speed-lr0.001" and two_speed["ours_mean"] == pytest.approx(51.5)
    dense = table[table["method"] == "Dense"]
    assert len(dense) == 4 and dense["ours_mean"].tolist() == pytest.approx([80] * 4)  # every block: the c = 100 network
    assert (table[table["method"] == "Grow"]["verdict"] == NOT_RUN).all()


def test_an_overlay_that_narrows_a_study_leaves_its_other_rows_not_run():
    """reference/paper narrows mlp to Split-Fashion: the mapping stays valid, the MNIST rows are "not run"."""
    from snakemake.utils import update_config

    raw = yaml.safe_load((ROOT / "config.yaml").read_text())
    update_config(raw, yaml.safe_load((ROOT / "reference/paper/config.yaml").read_text()))
    narrowed = load_config(raw)
    assert mapping_problems(MAPPING, narrowed, PUBLISHED_DIR) == []
    card = scorecard(MAPPING, Evidence(narrowed, "paper", {"mlp": mlp_runs()}))
    table3 = card[card["table"] == "Table 3"]
    mnist = table3[table3["setting"] == "MNIST (IID)"]
    assert (mnist["verdict"] == NOT_RUN).all() and mnist["note"].str.contains("not in study mlp").all()
    assert (table3[table3["setting"] == "Split-Fashion (+Tiny ER)"]["verdict"] != NOT_RUN).all()

def test_welch_rows_compare_grow_at_c_with_the_full_dense_network():
    runs = mlp_runs(grow_wt=0.55).assign(setting="cifar100_iid")
    card = scorecard(MAPPING, Evidence(CFG, "paper", {"convnet": runs}))
    row = card[(card["table"] == "Table 5") & (card["comparison"] == "Grow vs Dense") & (card["phase"] == "wt")
               & (card["compactness"] == "20")].iloc[0]
    grow = runs[(runs["method"] == "grow") & (runs["c"] == 20)]["wt_acc"]
    dense = runs[(runs["method"] == "dense") & (runs["c"] == 100)]["wt_acc"]
    from scipy import stats
    assert row["ours_mean"] == pytest.approx(stats.ttest_ind(grow, dense, equal_var=False).pvalue)
    assert row["verdict"] == SAME_SIDE  # both far below 0.05 (published 0.0000)


def test_swr_rows_read_the_selected_lambda_of_each_regulariser():
    rows = []
    for seed in range(1, 6):
        for setting, kind, strength, val, test in (
                ("swr_mnist_mlp_single", "none", 0.0, 0.97, 0.9789),
                ("swr_mnist_mlp_single-swr-0.01-0.01", "swr", 0.01, 0.96, 0.50),
                ("swr_mnist_mlp_single-swr-0.001-0.001", "swr", 0.001, 0.98, 0.9822)):
            rows.append({"setting": setting, "base_setting": "swr_mnist_mlp_single", "method": "dense", "c": 100,
                         "seed": seed, "regularizer.kind": kind, "regularizer.strength": strength,
                         "regularizer.head_strength": strength,
                         "val_acc": val, "cycle_acc": test + 0.001 * seed, "model": "mlp", "dataset": "mnist",
                         "lr_schedule": "constant"})
    card = scorecard(MAPPING, Evidence(CFG, "paper", {"swr_single": pd.DataFrame(rows)}))
    swr = card[(card["paper"] == "SWR") & (card["table"] == "Table 1") & (card["setting"] == "MNIST")
               & (card["method"] == "SWR")].iloc[0]
    assert swr["our_setting"] == "swr_mnist_mlp_single-swr-0.001-0.001"  # best validation, not best test
    assert swr["ours_mean"] == pytest.approx(98.22 + 0.3) and swr["published_mean"] == pytest.approx(98.22)


def test_claims_hold_or_fail_on_the_numbers_and_say_what_is_missing():
    claims = claims_table(Evidence(CFG, "paper", {"mlp": mlp_runs()}), MAPPING).set_index("claim_id")
    # Delta 8 points with a tight CI at every c, mean over c in [5, 12]; Grow and Prune tickets 0.2 points apart.
    assert claims.loc["sp_delta_positive_class_incremental", "result"] == "reproduced (on the benchmarks run)"
    numbers = claims.loc["sp_delta_positive_class_incremental", "numbers"]
    assert "split_fashion_er grow: mean over c +8.00" in numbers and "not run: study mlp has no runs of split_mnist_er" in numbers
    assert claims.loc["sp_grow_beats_prune_cycle_acc_cifar100", "result"] == NOT_RUN
    worse = mlp_runs()
    worse.loc[worse["method"] == "grow", "delta_acc"] = 0.0
    claims = claims_table(Evidence(CFG, "quick", {"mlp": worse}), MAPPING).set_index("claim_id")
    assert claims.loc["sp_delta_positive_class_incremental", "result"] == "stand-in only: does not hold"
    assert claims.loc["sp_grow_prune_tickets_indistinguishable", "result"] == "stand-in only: holds (on the benchmarks run)"


def test_published_lambda_picks():
    assert parse_lambdas("λ = 1e-3") == {"strength": 1e-3, "head_strength": 1e-3}
    assert parse_lambdas("λf = 1e-4, λc = 1e+0") == {"strength": 1e-4, "head_strength": 1.0}
    assert swr_published_pick("single", "full", "CIFAR-100", "CNN-BN", "swr") == {"strength": 1e-4, "head_strength": 0.1}
    assert swr_published_pick("chunks", "limited", "TinyImageNet", "VGG-16", "l2_init") == {"strength": 1e-3}
    assert swr_published_pick("single", "full", "Fashion-MNIST", "MLP", "l2") is None


def test_published_selection_runs_one_point_per_regulariser_and_refuses_where_none_is_listed():
    from plasticity.config import ConfigError, study_plan

    raw = yaml.safe_load((ROOT / "config.yaml").read_text())
    raw["scales"]["paper"]["studies"] = {"swr_single": {"lambda_selection": "published"}}
    plan = study_plan(load_config(raw), "paper", "swr_single")
    assert "swr_cifar100_cnn_bn_single-swr-0.0001-0.1" in plan["settings"]
    assert len(plan["settings"]) == 5 * 4  # vanilla, L2, L2-Init, SWR per pair
    raw["scales"]["quick"]["studies"]["swr_single"]["lambda_selection"] = "published"
    with pytest.raises(ConfigError, match="lists no lambda of l2 for MLP on Fashion-MNIST"):
        load_config(raw)


def test_readings_name_their_keys_and_stand_beside_the_published_summary():
    assert reading_keys(CFG, "paper", "split_fashion_er_cap200", "split_fashion_er") == "replay.cap: 200"
    assert reading_keys(CFG, "paper", "split_fashion_er", "split_fashion_er") == "default"
    published = published_summary(MAPPING, CFG, "split_fashion_er").set_index(["method", "metric"])
    assert published.loc[("dense", "wt_acc"), "mean"] == 75.01 and published.loc[("dense", "wt_acc"), "ci"] == 1.58
    assert published.loc[("grow", "delta_acc"), "mean"] == 7.76 and math.isnan(published.loc[("grow", "delta_acc"), "ci"])
    runs = mlp_runs()
    runs = pd.concat([runs, runs[runs["method"] == "dense"].assign(setting="split_fashion_er_cap200", wt_acc=0.6)])
    runs["wt_taa_epochs"], runs["wt_taa_ends"] = runs["wt_taa"], runs["wt_taa"]
    tidy, formatted = readings_table(runs, CFG, "paper", "split_fashion_er", published.reset_index(), protocol=True)
    capped = tidy[(tidy["setting"] == "split_fashion_er_cap200") & (tidy["metric"] == "wt_acc")].iloc[0]
    assert capped["verdict"] == DIFFERENT and capped["reading"] == "replay.cap: 200"
    assert list(formatted["Setting"]).index("split_fashion_er") < list(formatted["Setting"]).index(
        "split_fashion_er_cap200")
    assert set(formatted["Method"]) == {"Dense", "Grow", "Prune"}


def test_outputs_carry_their_provenance(tmp_path):
    from plasticity.plots import save_figure
    from plasticity.plots.scorecard import scorecard_figure
    from plasticity.tables import write_table

    record = provenance.record(provenance.config_hash({"a": 1}), ["cpu"])
    assert record["commit"] == "unknown" or len(record["commit"].split("+")[0]) == 40
    assert record["packages"]["torch"] == "2.14.1" and record["devices"] == ["cpu"]
    assert provenance.config_hash({"a": 1}) != provenance.config_hash({"a": 2})
    write_table(pd.DataFrame({"x": [1]}), tmp_path / "t", "Caption", provenance=record)
    assert (tmp_path / "t.md").read_text().rstrip().endswith(provenance.line(record))
    assert provenance.line(record) in (tmp_path / "t.tex").read_text()
    assert json.loads((tmp_path / "t.provenance.json").read_text()) == record
    card = paper_card(mlp_runs())
    save_figure(scorecard_figure(card, "Test"), tmp_path / "f.pdf", tmp_path / "f.png", provenance=record)
    assert Image.open(tmp_path / "f.png").text["Description"] == provenance.line(record)
    assert json.loads((tmp_path / "f.provenance.json").read_text())["config_hash"] == record["config_hash"]
