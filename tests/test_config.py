"""config.yaml validation, the run grids it defines, and the workflow's refusal of a bad config."""

import copy
import dataclasses
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

import plasticity.run as run_module

from plasticity.config import (
    DefaultFillingValidator,
    SCHEMA,
    ConfigError,
    load_config,
    run_config,
    run_dir,
    run_grid,
    ticket_grid,
)
from plasticity.run import RunConfig

ROOT = Path(__file__).resolve().parents[1]
RAW = yaml.safe_load((ROOT / "config.yaml").read_text())
GRID_FIELDS = {"setting", "method", "c", "seed", "device"}  # set by the grid, not by config keys


def with_value(key_path: str, value) -> dict:
    """A copy of config.yaml with one dotted key set."""
    raw = copy.deepcopy(RAW)
    *parents, last = key_path.split(".")
    node = raw
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return raw


def error_of(raw: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(raw)
    return str(caught.value)


@pytest.fixture(scope="module")
def cfg() -> dict:
    return load_config(RAW)


def test_schema_is_valid_draft_2020_12():
    DefaultFillingValidator.check_schema(SCHEMA)


def test_defaults_are_filled_without_touching_the_input():
    raw = copy.deepcopy(RAW)
    del raw["scale"], raw["device"], raw["data"]["datasets"]["mnist"]["mirrors"]
    del raw["scales"]["quick"]["settings_run"], raw["scales"]["quick"]["job_runtime_min"]
    cfg = load_config(raw)
    assert cfg["scale"] == "paper"
    assert cfg["device"] == "auto"
    assert cfg["data"]["datasets"]["mnist"]["mirrors"] == []
    assert cfg["scales"]["paper"] == {"protocol": True, "job_runtime_min": 720, "seeds_per_job": 1, "studies": {},
                                      "run": {}, "settings_run": {}}
    assert cfg["scales"]["quick"]["protocol"] is False
    assert cfg["scales"]["quick"]["settings_run"] == {} and cfg["scales"]["quick"]["job_runtime_min"] == 120
    assert "scale" not in raw  # the caller's dict is left as it was


@pytest.mark.parametrize(
    ("key_path", "expected"),
    [
        ("setings", "config key setings is unknown; did you mean 'settings'?"),
        ("settings.split_fashion_er.epochs_per_cycel",
         "config key settings.split_fashion_er.epochs_per_cycel is unknown; did you mean 'epochs_per_cycle'?"),
        ("defaults.grow.seed_fracton", "config key defaults.grow.seed_fracton is unknown; did you mean 'seed_fraction'?"),
        ("scales.quick.studies.mlp.seed", "config key scales.quick.studies.mlp.seed is unknown; did you mean 'seeds'?"),
    ],
)
def test_misspelt_key_names_its_path_and_the_right_name(key_path, expected):
    message = error_of(with_value(key_path, 1))
    assert expected in message
    assert "allowed keys:" in message


@pytest.mark.parametrize(
    ("key_path", "value", "expected"),
    [
        ("defaults.lr", "fast", "config key defaults.lr: 'fast' is not of type 'number'"),
        ("defaults.replay.enabled", "yes", "config key defaults.replay.enabled: 'yes' is not of type 'boolean'"),
        ("studies.mlp.compactness", [0, 30], "config key studies.mlp.compactness[0]: 0 is less than the minimum of 1"),
        ("studies.mlp.compactness", [30, 150],
         "config key studies.mlp.compactness[1]: 150 is greater than the maximum of 100"),
        ("studies.mlp.compactness", [0.3], "config key studies.mlp.compactness[0]: 0.3 is not of type 'integer'"),
        ("settings.split_fashion_er.epochs_per_cycle", -1,
         "config key settings.split_fashion_er.epochs_per_cycle: -1 is less than the minimum of 1"),
        ("studies.mlp.seeds", 0, "config key studies.mlp.seeds: 0 is less than the minimum of 1"),
        ("defaults.lr_schedule", "linear", "config key defaults.lr_schedule: 'linear' is not one of"),
    ],
)
def test_bad_value_names_its_key_path(key_path, value, expected):
    assert expected in error_of(with_value(key_path, value))


@pytest.mark.parametrize(
    ("key_path", "value", "expected"),
    [
        ("scale", "quik", "config key scale: unknown scale 'quik'; did you mean 'quick'?"),
        ("studies.mlp.settings", ["mnist_idd"], "config key studies.mlp.settings[0]: unknown setting 'mnist_idd'"),
        ("scales.smoke.studies.mlp.settings", ["split_mnist"], "scales.smoke.studies.mlp.settings[0]"),
        ("settings.mnist_iid.dataset", "mnst", "config key settings.mnist_iid.dataset: unknown dataset 'mnst'"),
        ("scales.smoke.studies.mlpp", {}, "config key scales.smoke.studies.mlpp: unknown study 'mlpp'"),
        ("scales.smoke.run.cycles", 4, "scale smoke, setting split_mnist_er: a split stream trains one task per "
                                       "cycle, but tasks is 3 and cycles is 4"),
    ],
)
def test_cross_checks_name_the_key(key_path, value, expected):
    assert expected in error_of(with_value(key_path, value))


def test_snakemake_refuses_a_bad_config_before_any_job(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("settings:\n  split_fashion_er:\n    epochs_per_cycle: -1\n")
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--configfile", str(bad)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0
    # Snakemake's logger prints the error to stdout or stderr depending on its version and terminal.
    output = result.stdout + result.stderr
    assert "settings.split_fashion_er.epochs_per_cycle: -1 is less than the minimum of 1" in output


def test_run_dicts_have_exactly_the_runconfig_fields(cfg):
    run = run_config(cfg, "paper", "split_fashion_er", "grow", 30, 1)
    assert set(run) == {f.name for f in dataclasses.fields(RunConfig)}
    assert RunConfig.from_dict(run).to_dict() == run


def test_schema_names_every_runconfig_field():
    run_fields = SCHEMA["$defs"]["run_fields"]["properties"]
    assert set(run_fields) | GRID_FIELDS == {f.name for f in dataclasses.fields(RunConfig)}
    types = {f.name: f.type for f in dataclasses.fields(RunConfig)}
    for nested in ("grow", "prune", "replay", "probe", "regularizer"):
        kind = getattr(run_module, types[nested])
        assert set(run_fields[nested]["properties"]) == {f.name for f in dataclasses.fields(kind)}


def test_defaults_are_written_once_in_config_yaml():
    """RunConfig and the schema restate no default: config.yaml's `defaults` block is the only place."""
    assert all(f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
               for kind in (RunConfig, run_module.GrowConfig, run_module.ReplayConfig) for f in dataclasses.fields(kind))
    assert not any("default" in spec for spec in SCHEMA["$defs"]["run_fields"]["properties"].values())
    assert set(RAW["defaults"]) | GRID_FIELDS | {"dataset", "device"} == {f.name for f in dataclasses.fields(RunConfig)}


def test_paper_grid_sizes(cfg):
    runs = run_grid(cfg, "paper", "mlp")
    assert len(runs) == 3 * (10 + 2 * 4 * 10)  # settings x (dense per seed + grow/prune per c and seed)
    assert len(ticket_grid(cfg, "paper", "mlp")) == 3 * 3 * 4 * 10
    assert {run["c"] for run in runs if run["method"] == "dense"} == {100}
    assert {run["c"] for run in runs if run["method"] != "dense"} == {20, 30, 40, 50}
    assert {run["seed"] for run in runs} == set(range(1, 11))
    assert len({run_dir(run) for run in runs}) == len(runs)


def test_protocol_values_reach_the_paper_runs(cfg):
    run = run_config(cfg, "paper", "split_mnist_er", "prune", 20, 3)
    assert run_dir(run) == "runs/split_mnist_er/prune/c20/seed3"
    assert (run["hidden"], run["cycles"], run["epochs_per_cycle"], run["lr"], run["batch_size"]) == (
        [256, 256], 5, 20, 0.01, 64)
    assert (run["stream"], run["tasks"], run["dataset"]) == ("split", 5, "mnist")


def test_scale_overrides_are_applied(cfg):
    smoke = run_grid(cfg, "smoke", "mlp")
    assert len(smoke) == 2 * (2 + 2 * 2 * 2)
    assert {run["dataset"] for run in smoke} == {"synthetic"}
    assert {(run["setting"], run["tasks"], run["cycles"]) for run in smoke} == {
        ("mnist_iid", 1, 3), ("split_mnist_er", 3, 3)}
    assert all(run["hidden"] == [32, 32] and run["epochs_per_cycle"] == 1 for run in smoke)
    quick = run_config(cfg, "quick", "split_fashion_er", "dense", 100, 1)
    assert (quick["dataset"], quick["train_subset"], quick["lr"]) == ("fashion_mnist", 12000, 0.01)


def test_nested_overrides_merge_key_by_key(cfg):
    run = run_config(cfg, "paper", "split_fashion_noreplay", "grow", 20, 1)
    assert run["replay"] == {**RAW["defaults"]["replay"], "enabled": False}


def locked_versions() -> dict[str, str]:
    lines = (ROOT / "envs" / "requirements.lock").read_text().splitlines()
    pins = (line.split(";")[0].split("==") for line in lines if line and not line.startswith("#"))
    return {name.lower().replace("_", "-"): version for name, version in pins}


def test_lock_holds_pyproject_pins_and_the_conda_env_is_made_from_it():
    locked = locked_versions()
    for dep in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]:
        name = dep.split("==")[0].split(">")[0].split("<")[0].strip().lower()
        assert name in locked, f"{name} is a dependency but not in envs/requirements.lock"
        if "==" in dep:
            assert locked[name] == dep.split("==")[1], dep
    check = subprocess.run([sys.executable, str(ROOT / "envs" / "lock.py"), "--check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    conda_pins = next(item["pip"] for item in yaml.safe_load((ROOT / "envs" / "pipeline.yaml").read_text())
                      ["dependencies"] if isinstance(item, dict))
    assert len(conda_pins) == len(locked)


def test_the_environment_is_the_lock():
    """envs/setup.sh installs the lock: every locked package has exactly its locked version here."""
    from importlib import metadata

    installed = {dist.metadata["Name"].lower().replace("_", "-"): dist.version for dist in metadata.distributions()}
    wrong = {name: (version, installed.get(name)) for name, version in locked_versions().items()
             if installed.get(name) != version}
    assert not wrong, f"installed versions differ from envs/requirements.lock (locked, installed): {wrong}"
