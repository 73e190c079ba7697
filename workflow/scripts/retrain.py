"""Snakemake entry point of the ticket rules: the job's winning tickets one after another, each into its ticket/
folder."""

from pathlib import Path

from plasticity.io import job_log
from plasticity.run import RunConfig
from plasticity.train import retrain_ticket

for run, state, out_dir, log in zip(snakemake.params.runs, snakemake.input.states, snakemake.params.out_dirs,  # noqa: F821
                                    snakemake.log, strict=True):  # noqa: F821
    with job_log(log):
        retrain_ticket(
            RunConfig.from_dict(run),
            dataset_path=snakemake.input.dataset,  # noqa: F821 (injected by Snakemake)
            source_state_path=state,
            out_dir=Path(out_dir),
            threads=snakemake.threads,  # noqa: F821
            # read here, not a param: switching it must not rerun finished jobs
            keep_checkpoint=snakemake.config["checkpoints"]["keep"],  # noqa: F821
            checkpoint_seconds=snakemake.config["checkpoints"]["every_seconds"],  # noqa: F821
        )
