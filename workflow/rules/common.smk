# Names, paths and run configs shared by the rules. All run logic lives in plasticity.config.

import re

from functools import cache

from plasticity.config import base_setting, built_studies, run_config, run_dir, run_grid, study_plan, ticket_grid, trained_c
from plasticity.output_kinds import KINDS
from plasticity.outputs import collected_file, declared_outputs
from plasticity.provenance import config_hash
from plasticity.scorecard import load_mapping

# The folders of one run as wildcard patterns, from the same run_dir that names concrete runs.
RUN_DIR = run_dir({field: f"{{{field}}}" for field in ("setting", "method", "c", "seed")})
RUN = f"results/{{scale}}/{RUN_DIR}"
LOG = f"logs/{{scale}}/{RUN_DIR}"


wildcard_constraints:
    scale="|".join(cfg["scales"]),
    study="|".join(map(re.escape, cfg["studies"])),
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


def setting_runs(wildcards, grid) -> list[dict]:
    """The runs (or tickets, with ticket_grid) of one base setting of a study: its regulariser grid points too."""
    return [run for run in grid(cfg, wildcards.scale, wildcards.study) if base_setting(run["setting"]) == wildcards.setting]


def ticket_source_state(wildcards) -> str:
    """The trained run whose final mask the ticket keeps: the same run, or for dense the c=100 run."""
    w = wildcards
    c = trained_c(w.method, int(w.c))
    run = RUN.format(scale=w.scale, setting=w.setting, method=w.method, c=c, seed=w.seed)
    return f"{run}/train/state.pt"


@cache
def study_hash(scale: str, *studies: str) -> str:
    """The config hash of outputs made from these studies' runs (provenance): it changes exactly when a run
    config of them, or the TAA reading of the tables, does."""
    grids = [[run_grid(cfg, scale, study), ticket_grid(cfg, scale, study)] for study in studies]
    return config_hash([grids, cfg["metrics"]])


SCORECARD_MAPPING = str(Path(workflow.basedir) / "workflow" / "scorecard.yaml")  # in the repository, not the workdir
OTHER_FILES = {"mapping": SCORECARD_MAPPING}  # inputs an output kind may name besides collected tables


@cache
def declared(scale: str) -> dict:
    """The declared outputs of a scale (plasticity.outputs), by file stem."""
    return declared_outputs(cfg, scale)


def declared_names(form: str) -> str:
    """A wildcard pattern of every declared output's stem of one form, at any scale."""
    names = {name for scale in cfg["scales"] for name, output in declared(scale).items() if output.form == form}
    return "|".join(map(re.escape, sorted(names))) or "^$"


def output_inputs(wildcards) -> dict:
    output = declared(wildcards.scale)[wildcards.name]
    files = {name: OTHER_FILES[name] for name in KINDS[output.kind].files}
    return {**output.inputs, **files}


def scorecard_studies(scale: str) -> list[str]:
    """The built studies whose runs the scorecard mapping reads (plasticity.scorecard)."""
    mapped = dict.fromkeys(spec["study"] for spec in load_mapping(SCORECARD_MAPPING).values() if "study" in spec)
    return [study for study in mapped if study in built_studies(cfg)]


def scorecard_norm_studies(scale: str) -> list[str]:
    """The scorecard's studies that record weight norms (the claims read them)."""
    return [study for study in scorecard_studies(scale)
            if run_config(cfg, scale, study_plan(cfg, scale, study)["settings"][0], "dense", 100, 1)["record_norms"]]


def collected_files(scale: str, studies: list[str], table: str) -> dict[str, list[str]]:
    """Per study, its collected `table` of every base setting."""
    return {study: [collected_file(scale, study, base, table) for base in study_plan(cfg, scale, study)["base_settings"]]
            for study in studies}


def study_targets(scale: str) -> list[str]:
    """Every output at this scale and the provenance page gathering their records (rule all)."""
    return output_targets(scale) + expand(rules.provenance_page.output, scale=scale)


def output_targets(scale: str) -> list[str]:
    """Every declared table and figure of the built studies at this scale, and the scorecard."""
    targets = []
    for name, output in declared(scale).items():
        builder = rules.table if output.form == "table" else rules.figure
        targets += expand(builder.output, scale=scale, name=name)
    return targets + expand(rules.scorecard.output, scale=scale)


def provenance_records(scale: str) -> list[str]:
    """The provenance record of every output of the scale (the sidecars its rules declare)."""
    return [path for path in output_targets(scale) if path.endswith(".provenance.json")]
