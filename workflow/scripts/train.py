"""Snakemake entry point of the training rules: the job's runs one after another, each into its train/ folder."""

from pathlib import Path

from plasticity.io import job_log
from plasticity.run import RunConfig
from plasticity.train import train_run

for run, out_dir, log in zip(snakemake.params.runs, snakemake.params.out_dirs, snakemake.log, strict=True):  # noqa: F821
    with job_log(log):
        train_run(
            RunConfig.from_dict(run),
            dataset_path=snakemake.input.dataset,  # noqa: F821 (injected by Snakemake)
            out_dir=Path(out_dir),
            threads=snakemake.threads,  # noqa: F821
            # read here, not a param: switching it must not rerun finished jobs
            keep_checkpoint=snakemake.config["checkpoints"]["keep"],  # noqa: F821
            checkpoint_seconds=snakemake.config["checkpoints"]["every_seconds"],  # noqa: F821
        )
