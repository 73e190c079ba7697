"""Structural-plasticity pipeline: prepare data -> train -> retrain tickets -> collect -> tables, figures.

`snakemake --cores all` builds every figure and table of the configured scale (config.yaml: scale);
`--config scale=quick` picks another. Every path has the scale in it, so scales never overwrite each other.
"""

import os
import sys
from pathlib import Path

# The package is importable without installing it: here, and (through PYTHONPATH) in the job scripts.
SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, SRC)
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")]))

from plasticity.config import load_config
from plasticity.io import job_glibc_tunables

os.environ["GLIBC_TUNABLES"] = job_glibc_tunables(os.environ.get("GLIBC_TUNABLES"))  # every job inherits them


configfile: "config.yaml"


cfg = load_config(config)  # validated, defaults filled; a bad key stops here, before any job
# What the job scripts read from their `snakemake.config` (they do not import and run load_config: 0.4 s a job)
config["checkpoints"] = cfg["checkpoints"]


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/retrain.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/outputs.smk"
include: "workflow/rules/scorecard.smk"


report: "workflow/report/workflow.rst"


onsuccess:
    cancel_scheduler_timers()


onerror:
    cancel_scheduler_timers()


rule all:
    default_target: True
    input:
        study_targets(cfg["scale"]),
