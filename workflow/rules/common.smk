# Names, paths and run configs shared by the rules. All run logic lives in plasticity.config.

import re

from functools import cache

from plasticity.config import (ablation_title, built_studies, figure_title, model_title, run_config, run_dir, run_grid,
                               study_plan, ticket_grid, trained_c)
from plasticity.provenance import config_hash
from plasticity.scorecard import load_mapping

# The folders of one run as wildcard patterns, from the same run_dir that names concrete runs.
RUN_DIR = run_dir({field: f"{{{field}}}" for field in ("setting", "method", "c", "seed")})
RUN = f"results/{{scale}}/{RUN_DIR}"
LOG = f"logs/{{scale}}/{RUN_DIR}"


wildcard_constraints:
    scale="|".join(cfg["scales"]),
    study="|".join(cfg["studies"]),
    setting="|".join(map(re.escape, cfg["settings"])),  # regularised variants have dots: swr_..-l2-0.01
    dataset="|".join(cfg["data"]["datasets"]),
    method="|".join(sorted({m for study in cfg["studies"].values() for m in study["methods"]})),
    c=r"\d+",
    seed=r"\d+",


def run_of(wildcards) -> dict:
    """The resolved RunConfig dict of the run a job's wildcards name (a params change reruns the job)."""
    w = wildcards
    return run_config(cfg, w.scale, w.setting, w.method, int(w.c), int(w.seed))


def dataset_file(wildcards) -> str:
    return f"results/{wildcards.scale}/data/{run_of(wildcards)['dataset']}.pt"


def training_gpus() -> int:
    """GPUs a train or retrain_ticket job requests: 1 with `device: cuda`, else 0 (auto and cpu ask for none).

    The `gpu` resource is what the SLURM executor turns into `sbatch --gpus=1`; 0 adds nothing to sbatch.
    """
    return 1 if cfg["device"] == "cuda" else 0


def training_runtime_min(wildcards) -> int:
    return cfg["scales"][wildcards.scale]["job_runtime_min"]


def training_mem_mb(wildcards, input) -> int:
    """Memory (MB) of a train or retrain_ticket job: the uint8 dataset file becomes float32 tensors (4 bytes a
    pixel) beside the loaded file itself; at least 4 GB for torch, the model and its optimizer."""
    return max(4000, 6 * int(input.size_mb))


def run_files(scale: str, runs: list[dict], part: str) -> list[str]:
    return [f"results/{scale}/{run_dir(run)}/{part}" for run in runs]


def ticket_source_state(wildcards) -> str:
    """The trained run whose final mask the ticket keeps: the same run, or for dense the c=100 run."""
    w = wildcards
    c = trained_c(w.method, int(w.c))
    run = RUN.format(scale=w.scale, setting=w.setting, method=w.method, c=c, seed=w.seed)
    return f"{run}/train/state.pt"


# Studies that compare Dense, Grow and Prune with cycle and winning-ticket tables and figures.
COMPARISON_STUDIES = {"mlp": "MLP", "convnet": "ConvNet"}  # study -> label in captions


# Studies whose runs carry the newborn probe, and the per-benchmark diagnostic figures they get.
DIAGNOSTIC_STUDIES = ["convnet"]
SETTING_DIAGNOSTICS = ["birth_parity", "post_birth", "taa_vs_parity", "geometry"]
# Figures across the settings of an ablation study (kinds of workflow/scripts/diagnostic_figures.py).
ABLATION_FIGURES = {"heuristics": ["heuristic"], "cycles": ["cycles", "age"], "swr_grow": ["parity"]}
# SWR studies and the figures of each of their settings (workflow/scripts/swr_figure.py); the single-task
# table reads SWR_TABLE_STUDIES.
SWR_FIGURES = {"swr_single": ["norms"], "swr_decay": ["norms"], "swr_warm": ["accuracy", "norms"],
               "swr_continual": ["accuracy", "norms"]}
SWR_TABLE_STUDIES = ["swr_single", "swr_decay"]
ABLATION_TABLE_CAPTIONS = {
    "heuristics": "Grow selection heuristics ({scale} scale): activation- vs gradient-based selection of the units "
    "to grow, per dataset and compactness c; mean ± 95% CI over seeds in %, Welch p (activation vs gradient).",
    "allocation": "Grow allocation schedules ({scale} scale): how the compactness budget is split over FC1-FC3 "
    "(Neutral, FC1-Protect, FC3-Protect, Ends-Skewed), per dataset and c; mean ± 95% CI over seeds in %.",
}


@cache
def study_hash(scale: str, *studies: str) -> str:
    """The config hash of outputs made from these studies' runs (provenance): it changes exactly when a run
    config of them, or the TAA reading of the tables, does."""
    grids = [[run_grid(cfg, scale, study), ticket_grid(cfg, scale, study)] for study in studies]
    return config_hash([grids, cfg["metrics"]])


SCORECARD_MAPPING = str(Path(workflow.basedir) / "workflow" / "scorecard.yaml")  # in the repository, not the workdir
# The readings table gathers the runs of these studies: the readings, and the default setting's full study.
READINGS_STUDIES = ["readings", "readings_prune", "mlp"]


def scorecard_studies(scale: str) -> list[str]:
    """The built studies whose runs the scorecard mapping reads (plasticity.scorecard)."""
    mapped = dict.fromkeys(spec["study"] for spec in load_mapping(SCORECARD_MAPPING).values() if "study" in spec)
    return [study for study in mapped if study in built_studies(cfg)]


def readings_studies(scale: str) -> list[str]:
    return [study for study in READINGS_STUDIES if study in built_studies(cfg)]


def study_targets(scale: str) -> list[str]:
    """Every output at this scale and the provenance page gathering their records (rule all)."""
    return output_targets(scale) + expand(rules.provenance_page.output, scale=scale)


def output_targets(scale: str) -> list[str]:
    """Every table and figure of every built study at this scale, the readings table and the scorecard."""
    built = set(built_studies(cfg))
    targets = []
    for study in filter(built.__contains__, COMPARISON_STUDIES):
        settings = study_plan(cfg, scale, study)["settings"]
        targets += expand(rules.comparison_tables.output, scale=scale, study=study)
        targets += expand(rules.comparison_figure.output, scale=scale, study=study, setting=settings)
    for study in filter(built.__contains__, DIAGNOSTIC_STUDIES):
        settings = study_plan(cfg, scale, study)["settings"]
        targets += expand(rules.diagnostic_figure.output, scale=scale, study=study, setting=settings,
                          kind=SETTING_DIAGNOSTICS)
    for study, kinds in ABLATION_FIGURES.items():
        if study in built:
            targets += expand(rules.ablation_figure.output, scale=scale, study=study, kind=kinds)
    targets += expand(rules.ablation_table.output, scale=scale, study=[s for s in ABLATION_TABLE_CAPTIONS if s in built])
    for study, kinds in SWR_FIGURES.items():
        if study in built:
            settings = study_plan(cfg, scale, study)["base_settings"]
            targets += expand(rules.swr_figure.output, scale=scale, study=study, setting=settings, kind=kinds)
    if set(SWR_TABLE_STUDIES) <= built:
        targets += expand(rules.swr_table.output, scale=scale)
    if "readings" in built:
        targets += expand(rules.readings.output, scale=scale)
    return targets + expand(rules.scorecard.output, scale=scale)


def provenance_records(scale: str) -> list[str]:
    """The provenance record of every output of the scale (the sidecars its rules declare)."""
    return [path for path in output_targets(scale) if path.endswith(".provenance.json")]
