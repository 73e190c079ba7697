"""Run configs for the tests: config.yaml's defaults (the one place they are written) with a test's fields on top."""

from pathlib import Path

import yaml

from plasticity.config import default_run, load_config
from plasticity.run import RunConfig

ROOT = Path(__file__).resolve().parents[1]
CONFIG = load_config(yaml.safe_load((ROOT / "config.yaml").read_text()))


def make_run(**fields) -> RunConfig:
    return default_run(CONFIG, **fields)
