"""End to end: the smoke DAG on small MNIST-format files, from the data rule to tables and figures."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

from idx_files import write_idx_dataset
from plasticity.claims import CLAIMS
from plasticity.metrics import METRICS, TAA_READINGS
from plasticity.output_kinds import KINDS
from plasticity.outputs import declared_outputs
from plasticity.published import PUBLISHED_DIR
from runs import CONFIG

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    command = [*SNAKEMAKE, "--directory", str(workdir), "--configfile", str(REPO / "config.yaml"),
               str(workdir / "test.yaml"), "--cores", "2", *args]
    # The timeout catches hangs only: the smoke DAG takes a few minutes alone, several on a busy machine.
    return subprocess.run(command, capture_output=True, text=True, timeout=3600)


@pytest.fixture(scope="module")
def smoke_dag(tmp_path_factory) -> Path:
    """Run the whole smoke DAG once, with the data rule reading IDX archives from a local mirror."""
    workdir = tmp_path_factory.mktemp("smoke")
    mirror = workdir / "mirror"
    md5s = write_idx_dataset(mirror, n_train=600, n_test=200)
    overrides = {
        "scale": "smoke",
        "data": {"datasets": {"mnist": {"files": md5s, "mirrors": [str(mirror)], "urls": []}}},
        "scales": {"smoke": {"run": {"dataset": "mnist"}}},
    }
    (workdir / "test.yaml").write_text(yaml.safe_dump(overrides))
    result = snakemake(workdir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return workdir


def test_data_rule_prepares_the_mirror_files(smoke_dag):
    dataset = torch.load(smoke_dag / "results/smoke/data/mnist.pt", weights_only=True)
    assert dataset["train_x"].shape == (600, 1, 28, 28) and dataset["test_x"].shape == (200, 1, 28, 28)


def collected(smoke_dag: Path, study: str, table: str) -> pd.DataFrame:
    """A study's collected table over all its settings (collect makes one per setting)."""
    return pd.concat([pd.read_csv(path) for path in sorted((smoke_dag / "results/smoke" / study).glob(f"*/{table}.csv"))],
                     ignore_index=True)


def test_every_run_reaches_the_tables(smoke_dag):
    runs = collected(smoke_dag, "mlp", "runs")
    # 2 settings x 3 methods x 2 compactness levels x 2 seeds, each with cycle and ticket metrics, + Dense at c=100
    assert len(runs) == 24 + 4 and not runs[METRICS + TAA_READINGS].isna().any().any()
    assert set(runs["cycle_device"]) == set(runs["wt_device"]) == {"cpu"}
    assert runs[["cycle_acc", "wt_acc", "cycle_taa", "wt_taa"]].stack().between(0, 1).all()
    assert (runs["delta_acc"] == runs["wt_acc"] - runs["cycle_acc"]).all()
    epochs = collected(smoke_dag, "mlp", "epochs")
    tickets = epochs[epochs["phase"] == "ticket"]
    # A ticket trains with the final unit count of its compactness from its first epoch.
    assert set(tickets.groupby(["c"])["active_units"].unique().map(len)) == {1}
    for table in ("mlp_summary", "mlp_compactness", "mlp_welch"):
        for suffix in (".csv", ".md", ".tex"):
            assert (smoke_dag / f"figures/smoke/{table}{suffix}").stat().st_size > 0
    for setting in ("mnist_iid", "split_mnist_er"):
        assert (smoke_dag / f"figures/smoke/mlp_{setting}.pdf").read_bytes().startswith(b"%PDF")


def test_diagnostics_reach_their_figures_and_tables(smoke_dag):
    probe = collected(smoke_dag, "convnet", "probe")
    assert {"post", "epoch", "end", "exit"} <= set(probe["snapshot"])
    assert set(probe["layer"]) == {"fc1", "fc2", "fc3"}
    for kind in ("birth_parity", "post_birth", "taa_vs_parity", "geometry"):
        assert (smoke_dag / f"figures/smoke/convnet_fashion_conv_iid_{kind}.pdf").read_bytes().startswith(b"%PDF")
    cycles = collected(smoke_dag, "cycles", "runs")
    assert sorted(cycles["cycles"].unique()) == [3, 6]
    assert set(cycles["cycles"] * cycles["epochs_per_cycle"]) == {6}  # K varies at a fixed epoch budget
    for name in ("heuristics_heuristic", "cycles_cycles", "cycles_age"):
        assert (smoke_dag / f"figures/smoke/{name}.pdf").read_bytes().startswith(b"%PDF")
    for table in ("heuristics_table", "allocation_table"):
        assert (smoke_dag / f"figures/smoke/{table}.md").stat().st_size > 0


def test_swr_studies_reach_their_table_and_figures(smoke_dag):
    runs = collected(smoke_dag, "swr_single", "runs")
    assert len(runs) == 4 * 2 and runs["val_acc"].between(0, 1).all()  # grid points x seeds
    assert set(runs["regularizer.kind"]) == {"none", "l2", "swr"}
    norms = collected(smoke_dag, "swr_warm", "norms")
    assert set(norms["layer"]) == {"fc1", "fc2", "head"} and set(norms["epoch"]) == {0, 1, 2}
    assert (smoke_dag / "figures/smoke/swr_single_task.md").stat().st_size > 0
    for name in ("swr_warm_swr_fashion_mlp_warm_accuracy", "swr_continual_swr_fashion_mlp_limited_norms",
                 "swr_grow_parity"):
        assert (smoke_dag / f"figures/smoke/{name}.pdf").read_bytes().startswith(b"%PDF")


def test_gcg_study_reaches_its_table_and_figures(smoke_dag):
    table = pd.read_csv(smoke_dag / "figures/smoke/gcg_table.csv")
    fixed = {"imp", "rigl", "set", "phew"}
    growth = {"pathgrow", "random_growth", "gradient_growth"}
    assert set(table.loc[table["c"] == 20, "method"]) == fixed | growth
    assert set(table.loc[table["c"] == 100, "method"]) == growth | {"dense"}
    assert (table["n"] == 2).all()
    at_20 = table[(table["c"] == 20) & table["method"].isin(fixed | growth - {"set"})]
    assert (at_20["density"].round(1) == 20.0).all()  # SET's ERK rounding moves it by a few connections
    dense = table[table["method"] == "dense"].iloc[0]
    assert dense["cost"] == 1.0 and table.loc[table["method"] == "imp", "cost"].iloc[0] > 2  # 8 rounds at c=20
    assert table.loc[(table["c"] == 100) & table["method"].isin(growth), "stop"].str.len().gt(0).all()
    for name in ("gcg_fashion_mlp_density", "gcg_fashion_mlp_cost", "gcg_fashion_mlp_stopping"):
        assert (smoke_dag / f"figures/smoke/{name}.pdf").read_bytes().startswith(b"%PDF")


def test_interventions_reach_their_table_and_figures(smoke_dag):
    table = pd.read_csv(smoke_dag / "figures/smoke/interventions_table.csv")
    interventions = {"two_speed", "transplant", "net2wider", "gradmax", "rsl"}
    assert set(table["variant"]) == {"dense", "prune", "grow", "grow_momentum"} | interventions
    assert (table.loc[table["metric"] == "cycle_taa", "n"] == 2).all()
    tested = table[table["variant"].isin(interventions)]
    assert set(tested.loc[tested["variant"] == "transplant", "reference"]) == {"grow_momentum"}
    assert set(tested.loc[tested["variant"] != "transplant", "reference"]) == {"grow"}
    references = table[table["variant"].isin(["dense", "prune", "grow", "grow_momentum"])]
    assert references["p"].isna().all()  # a reference is not tested against anything
    parities = table[table["metric"] == "log_grad_parity"].set_index("variant")["mean"]
    assert parities.drop(["dense", "prune"]).notna().all() and parities[["dense", "prune"]].isna().all()
    runs = collected(smoke_dag, "interventions", "runs")
    assert set(runs.loc[runs["setting"] == "fashion_conv_iid_rsl", "activation"]) == {"rsl"}
    events = pd.concat([pd.read_csv(path) for path in (smoke_dag / "results/smoke/runs/fashion_conv_iid_net2wider/grow")
                        .glob("c50/seed*/train/events.csv")])
    assert (events.loc[events["kind"] == "grow", "n_edited"] > 0).all()
    for name in ("interventions_synthesis", "interventions_rsl_parity", "two_speed_sweep"):
        assert (smoke_dag / f"figures/smoke/{name}.pdf").read_bytes().startswith(b"%PDF")


def test_the_scorecard_holds_every_published_number_and_the_claims(smoke_dag):
    card = pd.read_csv(smoke_dag / "figures/smoke/scorecard.csv")
    published = sum(len(pd.read_csv(path)) for path in PUBLISHED_DIR.glob("s*_table*.csv"))
    assert len(card) == published
    assert set(card["verdict"]) == {"stand-in only", "not run"}  # smoke runs no protocol
    ours = card[card["verdict"] == "stand-in only"]
    assert ours["ours_mean"].notna().all() and ours["note"].str.startswith("smoke stand-in").all()
    assert set(ours["table"]) >= {"Table 1", "Table 3", "Table 4", "Table 5", "Table 7", "Table 9", "Table 10"}
    claims = pd.read_csv(smoke_dag / "figures/smoke/claims.csv")
    assert list(claims["claim_id"]) == [claim.id for claim in CLAIMS]
    assert (smoke_dag / "figures/smoke/scorecard.html").read_text().count("<table") == 3
    readings = pd.read_csv(smoke_dag / "figures/smoke/readings.csv")
    assert set(readings["setting"]) == {"split_fashion_er", "split_fashion_er_cap200", "split_fashion_er_restart_at_rewind"}


def test_every_output_records_its_provenance(smoke_dag):
    records = pd.read_csv(smoke_dag / "figures/smoke/provenance.csv")
    stems = {path.name.removesuffix(".csv") for path in (smoke_dag / "figures/smoke").glob("*.csv")} - {"provenance"}
    stems |= {path.stem for path in (smoke_dag / "figures/smoke").glob("*.pdf")}
    assert set(records["output"]) == stems
    # Outputs made from the config alone (the benchmarks and RSL settings tables) trained nothing: no device.
    from_runs = records["output"].map(lambda name: bool(KINDS[declared_outputs(CONFIG, "smoke")[name].kind].reads)
                                      if name in declared_outputs(CONFIG, "smoke") else True)
    assert (~from_runs).sum() == 2 and records.loc[~from_runs, "devices"].isna().all()
    assert (records.loc[from_runs, "devices"] == "cpu").all() and records["config_hash"].str.fullmatch("[0-9a-f]{16}").all()
    assert records["torch"].eq("2.14.1").all()


def test_only_studies_builds_those_and_scores_the_rest_as_not_run(tmp_path):
    overrides = {"scale": "smoke", "only_studies": ["mlp"]}
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(overrides))
    result = snakemake(tmp_path, "--dry-run")
    jobs = result.stdout + result.stderr
    assert result.returncode == 0, jobs[-3000:]
    assert "results/smoke/runs/mnist_iid/" in jobs and "results/smoke/runs/fashion_conv_iid/" not in jobs
    assert "rule scorecard:" in jobs and "swr_single_task" not in jobs


PINNED = Path(__file__).with_name("smoke_results.json")


def table_digest(path: Path) -> str:
    """A table's hash with every number rounded to 4 significant digits: a machine's last-digit float noise does
    not move it, a change of the computation does."""
    frame = pd.read_csv(path)
    numbers = frame.select_dtypes("number").columns
    frame[numbers] = frame[numbers].apply(lambda column: column.map(lambda v: float(f"{v:.4g}")))
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


def test_smoke_results_are_pinned(smoke_dag):
    """Every table of the smoke DAG is pinned (OpenLTH-style): a change of numbers must be deliberate. After one,
    re-pin with PLASTICITY_REPIN=1 python -m pytest tests/test_pipeline.py -k pinned, and say why in the commit."""
    digests = {path.name: table_digest(path) for path in sorted((smoke_dag / "figures/smoke").glob("*.csv"))
               if path.name != "provenance.csv"}
    if os.environ.get("PLASTICITY_REPIN"):
        PINNED.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
    changed = {name for name, digest in digests.items() if json.loads(PINNED.read_text()).get(name) != digest}
    assert set(json.loads(PINNED.read_text())) == set(digests) and not changed, f"smoke tables changed: {sorted(changed)}"


def test_a_finished_dag_has_nothing_left_to_do(smoke_dag):
    result = snakemake(smoke_dag, "--dry-run")
    assert result.returncode == 0 and "Nothing to be done" in result.stdout + result.stderr


def test_one_figure_rebuilds_only_what_it_needs(smoke_dag):
    (smoke_dag / "figures/smoke/mlp_mnist_iid.pdf").unlink()
    result = snakemake(smoke_dag, "--dry-run", "figures/smoke/mlp_mnist_iid.pdf")
    jobs = result.stdout + result.stderr
    assert result.returncode == 0 and "rule figure:" in jobs
    assert "rule train" not in jobs and "rule retrain_ticket" not in jobs and "rule collect" not in jobs


def test_a_figure_needs_only_the_runs_it_shows(tmp_path):
    """From nothing, one setting's figure trains that setting's runs and no other (the mlp study has two)."""
    (tmp_path / "test.yaml").write_text(yaml.safe_dump({"scale": "smoke"}))
    result = snakemake(tmp_path, "--dry-run", "figures/smoke/mlp_split_mnist_er.pdf")
    jobs = result.stdout + result.stderr
    assert result.returncode == 0, jobs[-3000:]
    assert "results/smoke/runs/split_mnist_er/" in jobs and "results/smoke/runs/mnist_iid/" not in jobs


def test_a_new_study_of_existing_output_kinds_is_a_config_edit(tmp_path):
    """A study added in the config alone, with its own outputs, builds them with no code change."""
    overrides = {"scale": "smoke", "only_studies": ["wide_mlp"],
                 "settings": {"wide_iid": {"dataset": "synthetic", "model": "mlp", "hidden": [48, 48]}},
                 "studies": {"wide_mlp": {"label": "Wide MLP", "methods": ["dense", "grow"], "compactness": [50],
                                          "seeds": 2, "settings": ["wide_iid"],
                                          "outputs": ["summary", "cycle_vs_ticket"]}}}
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(overrides))
    result = snakemake(tmp_path)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    summary = pd.read_csv(tmp_path / "figures/smoke/wide_mlp_summary.csv")
    assert set(summary["method"]) == {"dense", "grow"} and set(summary["n"]) == {2}
    assert (tmp_path / "figures/smoke/wide_mlp_wide_iid.pdf").read_bytes().startswith(b"%PDF")
    assert "Wide MLP study (smoke scale)" in (tmp_path / "figures/smoke/wide_mlp_summary.md").read_text()


@pytest.mark.parametrize("seeds_per_job, rule, runtime", [(1, "train_smoke", 7), (2, "train_smoke_seeds1to2", 14)])
def test_training_jobs_ask_a_cluster_for_the_scale_time_limit_and_a_gpu(tmp_path, seeds_per_job, rule, runtime):
    """What a cluster executor submits a training job with: its scale's job_runtime_min per run it trains and, with
    device=cuda, one GPU; with seeds_per_job 2 one job trains seeds 1 and 2."""
    overrides = {"scale": "smoke", "device": "cuda",
                 "scales": {"smoke": {"job_runtime_min": 7, "seeds_per_job": seeds_per_job}}}
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(overrides))
    result = snakemake(tmp_path, "--dry-run", "results/smoke/runs/mnist_iid/grow/c50/seed1/train/epochs.csv")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    train_job = output[output.index(f"rule {rule}:"):]
    resources = next(line for line in train_job.splitlines() if "resources:" in line)
    assert f"runtime={runtime}," in resources and "gpu=1" in resources, resources
    outputs = next(line for line in train_job.splitlines() if "output:" in line)
    assert ("seed2/train/epochs.csv" in outputs) == (seeds_per_job == 2), outputs


def test_checkpoints_keep_reaches_the_training_and_ticket_jobs(tmp_path):
    """The job scripts read `checkpoints.keep` from the config the Snakefile resolved: a finished run's checkpoint
    is kept when it is set and deleted otherwise, for every run of a job (smoke: seeds 1 and 2 in one job)."""
    runs = [f"results/smoke/runs/mnist_iid/grow/c50/seed{seed}" for seed in (1, 2)]
    for keep in (True, False):
        workdir = tmp_path / f"keep_{keep}"
        workdir.mkdir()
        (workdir / "test.yaml").write_text(yaml.safe_dump({"scale": "smoke", "checkpoints": {"keep": keep}}))
        result = snakemake(workdir, f"{runs[0]}/ticket/epochs.csv")
        assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
        for run in runs:
            assert (workdir / run / "ticket/epochs.csv").exists()
            for folder in ("train", "ticket"):
                assert (workdir / run / folder / "checkpoint.pt").exists() == keep, (run, folder, keep)
