# Names, paths and run configs shared by the rules. All run logic lives in plasticity.config.

import re
import threading

from functools import cache

from plasticity.config import base_setting, built_studies, run_config, run_dir, run_grid, study_plan, ticket_grid, trained_c
from plasticity.output_kinds import KINDS
from plasticity.outputs import collected_file, declared_outputs
from plasticity.provenance import config_hash
from plasticity.scorecard import load_mapping

wildcard_constraints:
    scale="|".join(cfg["scales"]),
    study="|".join(map(re.escape, cfg["studies"])),
    setting="|".join(map(re.escape, cfg["settings"])),  # regularised variants have dots: swr_..-l2-0.01
    dataset="|".join(cfg["data"]["datasets"]),
    method="|".join(sorted({m for study in cfg["studies"].values() for m in study["methods"]})),
    c=r"\d+",
    seed=r"\d+",


def seed_blocks(scale: str) -> list[tuple]:
    """The seeds that one train or retrain_ticket job of this scale runs, one tuple per job rule.

    With `seeds_per_job: 1` a job is one run, its seed a wildcard. With k > 1 a job trains seeds 1..k (k+1..2k,
    ...) of one setting, method and c one after another in one process, so the start of a job (Python, torch
    and the imports, about 2.5 s) is paid once per k runs; a Snakemake rule can only declare such outputs with
    the seeds written out, so each block of seeds is a rule of its own.
    """
    per_job = cfg["scales"][scale]["seeds_per_job"]
    if per_job == 1:
        return [("{seed}",)]
    top = max(study_plan(cfg, scale, study)["seeds"] for study in cfg["studies"])
    return [tuple(range(first, min(first + per_job, top + 1))) for first in range(1, top + 1, per_job)]


def block_rule_name(rule: str, scale: str, seeds: tuple) -> str:
    return f"{rule}_{scale}" if seeds == ("{seed}",) else f"{rule}_{scale}_seeds{seeds[0]}to{seeds[-1]}"


def block_dirs(root: str, scale: str, seeds: tuple, c: str = "{c}") -> list[str]:
    """The run folders of one job below root/scale/ (results or logs), as patterns of its wildcards."""
    return [f"{root}/{scale}/{run_dir({'setting': '{setting}', 'method': '{method}', 'c': c, 'seed': seed})}"
            for seed in seeds]


def block_seeds(seeds: tuple, wildcards) -> list[int]:
    return [int(wildcards.seed)] if seeds == ("{seed}",) else list(seeds)


def block_runs(scale: str, seeds: tuple):
    """params function: the resolved RunConfig dict of each run of a job (a params change reruns the job)."""
    return lambda w: [run_config(cfg, scale, w.setting, w.method, int(w.c), seed) for seed in block_seeds(seeds, w)]


def block_out_dirs(scale: str, seeds: tuple, folder: str):
    """params function: the train/ or ticket/ folder of each run of a job."""
    return lambda w: [f"{path}/{folder}" for path in expand(block_dirs("results", scale, seeds), **dict(w.items()))]


def dataset_file(scale: str):
    return lambda w: f"results/{scale}/data/{run_config(cfg, scale, w.setting, w.method, int(w.c), 1)['dataset']}.pt"


def ticket_source_states(scale: str, seeds: tuple):
    """The trained runs whose final masks a job's tickets keep: the same runs, or for dense the c=100 runs."""
    return lambda w: [f"{path}/train/state.pt" for path in
                      expand(block_dirs("results", scale, seeds, c=str(trained_c(w.method, int(w.c)))), **dict(w.items()))]


def training_runtime_min(scale: str, seeds: tuple) -> int:
    """A job's cluster time limit: the scale's limit per run, times its runs."""
    return len(seeds) * cfg["scales"][scale]["job_runtime_min"]


def training_gpus() -> int:
    """GPUs a train or retrain_ticket job requests: 1 with `device: cuda`, else 0 (auto and cpu ask for none).

    The `gpu` resource is what the SLURM executor turns into `sbatch --gpus=1`; 0 adds nothing to sbatch.
    """
    return 1 if cfg["device"] == "cuda" else 0


def training_mem_mb(wildcards, input) -> int:
    """Memory (MB) of a train or retrain_ticket job: the uint8 dataset file becomes float32 tensors (4 bytes a
    pixel) beside the loaded file itself; at least 4 GB for torch, the model and its optimizer."""
    return max(4000, 6 * int(input.size_mb))


def run_files(scale: str, runs: list[dict], part: str) -> list[str]:
    return [f"results/{scale}/{run_dir(run)}/{part}" for run in runs]


@cache
def study_grid(grid, scale: str, study: str) -> list[dict]:
    """run_grid or ticket_grid of a study, computed once: Snakemake evaluates the input and params functions of
    every job while it builds the DAG and again before it starts one (the quick DAG's 427 jobs asked for the
    grids 310 times: 27,000 run configs). Read-only to its callers."""
    return grid(cfg, scale, study)


def setting_runs(wildcards, grid) -> list[dict]:
    """The runs (or tickets, with ticket_grid) of one base setting of a study: its regulariser grid points too."""
    return [run for run in study_grid(grid, wildcards.scale, wildcards.study)
            if base_setting(run["setting"]) == wildcards.setting]


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
    grids = [[study_grid(run_grid, scale, study), study_grid(ticket_grid, scale, study)] for study in studies]
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


def cancel_scheduler_timers() -> None:
    """onsuccess/onerror: Snakemake (9.27) arms a threading.Timer of the --max-jobs-per-timespan span after every
    scheduling pass, and the interpreter waits for the last one before it exits: with the profiles' 1000/1m every
    command sat idle for a minute after its last job (`snakemake figures/quick/rsl_settings.md --forcerun table`:
    64.6 s, Snakemake's own Elapsed 5.6 s). Once the DAG is done nothing is left for them to wake."""
    for thread in threading.enumerate():
        if isinstance(thread, threading.Timer):
            thread.cancel()
