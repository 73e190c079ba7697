"""Snakemake entry point of rule retrain_ticket: retrain a winning ticket into the ticket/ folder."""

from pathlib import Path

from plasticity.io import job_log
from plasticity.run import RunConfig
from plasticity.train import retrain_ticket

with job_log(snakemake.log[0]):  # noqa: F821
    retrain_ticket(
        RunConfig.from_dict(snakemake.params.run),  # noqa: F821 (injected by Snakemake)
        dataset_path=snakemake.input.dataset,  # noqa: F821
        source_state_path=snakemake.input.state,  # noqa: F821
        out_dir=Path(snakemake.output.epochs).parent,  # noqa: F821
        threads=snakemake.threads,  # noqa: F821
        # read here, not a param: switching it must not rerun finished jobs
        keep_checkpoint=snakemake.config["checkpoints"]["keep"],  # noqa: F821
    )
