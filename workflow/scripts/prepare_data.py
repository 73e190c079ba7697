"""Snakemake entry point: prepare one dataset file (results/{scale}/data/{dataset}.pt)."""

from pathlib import Path

from plasticity.data import prepare_dataset

out_path = Path(snakemake.output[0])  # noqa: F821 (injected by Snakemake)
dataset = snakemake.wildcards.dataset  # noqa: F821
prepare_dataset(dataset, snakemake.params.spec, out_path.parent / "raw" / dataset, out_path)  # noqa: F821
