"""Snakemake entry point of rule train: one training run, its outputs written to the train/ folder."""

from pathlib import Path

from plasticity.io import job_log
from plasticity.run import RunConfig
from plasticity.train import train_run

with job_log(snakemake.log[0]):  # noqa: F821
    train_run(
        RunConfig.from_dict(snakemake.params.run),  # noqa: F821 (injected by Snakemake)
        dataset_path=snakemake.input.dataset,  # noqa: F821
        out_dir=Path(snakemake.output.epochs).parent,  # noqa: F821
        threads=snakemake.threads,  # noqa: F821
        # read here, not a param: switching it must not rerun finished jobs
        keep_checkpoint=snakemake.config["checkpoints"]["keep"],  # noqa: F821
    )
