# Names, paths and run configs shared by the rules. All run logic lives in plasticity.config.

from plasticity.config import figure_title, run_config, run_dir, run_grid, study_plan, ticket_grid, trained_c

# The folders of one run as wildcard patterns, from the same run_dir that names concrete runs.
RUN_DIR = run_dir({field: f"{{{field}}}" for field in ("study", "setting", "method", "c", "seed")})
RUN = f"results/{{scale}}/{RUN_DIR}"
LOG = f"logs/{{scale}}/{RUN_DIR}"


wildcard_constraints:
    scale="|".join(cfg["scales"]),
    study="|".join(cfg["studies"]),
    setting="|".join(cfg["settings"]),
    dataset="|".join(cfg["data"]["datasets"]),
    method="|".join(sorted({m for study in cfg["studies"].values() for m in study["methods"]})),
    c=r"\d+",
    seed=r"\d+",


def run_of(wildcards) -> dict:
    """The resolved RunConfig dict of the run a job's wildcards name (a params change reruns the job)."""
    w = wildcards
    return run_config(cfg, w.scale, w.study, w.setting, w.method, int(w.c), int(w.seed))


def dataset_file(wildcards) -> str:
    return f"results/{wildcards.scale}/data/{run_of(wildcards)['dataset']}.pt"


def run_files(scale: str, runs: list[dict], part: str) -> list[str]:
    return [f"results/{scale}/{run_dir(run)}/{part}" for run in runs]


def ticket_source_state(wildcards) -> str:
    """The trained run whose final mask the ticket keeps: the same run, or for dense the c=100 run."""
    w = wildcards
    c = trained_c(w.method, int(w.c))
    run = RUN.format(scale=w.scale, study=w.study, setting=w.setting, method=w.method, c=c, seed=w.seed)
    return f"{run}/train/state.pt"


def mlp_targets(scale: str) -> list[str]:
    """Every table and figure of the MLP study at this scale (called by rule all, once every rule exists)."""
    settings = study_plan(cfg, scale, "mlp")["settings"]
    tables = expand(rules.mlp_tables.output, scale=scale)
    return tables + expand(rules.mlp_figure.output, scale=scale, setting=settings)
