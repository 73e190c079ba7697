"""Concatenate the per-run CSVs of one study and derive its runs table (metrics and config per run).

Run by Snakemake's `script:` directive, which injects the `snakemake` object.
"""

import pandas as pd

from plasticity.continual import task_metrics
from plasticity.io import atomic_write_csv
from plasticity.metrics import RUN_KEY, run_descriptors, run_metrics


def concat(paths) -> pd.DataFrame:
    return pd.concat([pd.read_csv(path) for path in paths], ignore_index=True)


epochs = concat(snakemake.input.epochs)
atomic_write_csv(epochs, snakemake.output.epochs)
atomic_write_csv(concat(snakemake.input.events), snakemake.output.events)
atomic_write_csv(concat(snakemake.input.probe), snakemake.output.probe)
atomic_write_csv(concat(snakemake.input.norms), snakemake.output.norms)
tasks = concat(snakemake.input.tasks)
atomic_write_csv(tasks, snakemake.output.tasks)
runs = run_metrics(epochs, list(snakemake.params.compactness), snakemake.params.tickets,
                   cycle_taa=snakemake.params.taa["cycle_taa"], wt_taa=snakemake.params.taa["wt_taa"])
runs = runs.merge(run_descriptors(snakemake.params.runs), on=["setting", "method", "seed"], how="left")
runs = runs.merge(task_metrics(tasks, runs), on=RUN_KEY, how="left")  # the continual streams' (else NaN)
atomic_write_csv(runs, snakemake.output.runs)
