"""One newborn-diagnostics figure (PDF and PNG), chosen by params.kind.

Inputs: probe (probe table) and runs (runs table); each may be one CSV or several, which are concatenated.
Params: title, kind, and setting (None, or the one benchmark to keep). Outputs: pdf, png.
Run by Snakemake's `script:` directive, which injects the `snakemake` object.
"""

import pandas as pd

from plasticity import provenance
from plasticity.plots import save_figure
from plasticity.plots.diagnostics import (
    age_figure,
    birth_parity_figure,
    cycles_figure,
    heuristic_figure,
    parity_geometry_figure,
    post_birth_figure,
    swr_grow_figure,
    taa_vs_parity_figure,
)


def read_tables(paths) -> pd.DataFrame:
    paths = [paths] if isinstance(paths, str) else paths
    return pd.concat([pd.read_csv(path) for path in paths], ignore_index=True)


FIGURES = {
    "birth_parity": lambda probe, runs, title: birth_parity_figure(probe, title),
    "post_birth": lambda probe, runs, title: post_birth_figure(probe, title),
    "taa_vs_parity": taa_vs_parity_figure,
    "geometry": lambda probe, runs, title: parity_geometry_figure(probe, title),
    "heuristic": heuristic_figure,
    "cycles": lambda probe, runs, title: cycles_figure(runs, title),
    "age": age_figure,
    "parity": swr_grow_figure,
}

probe = read_tables(snakemake.input.probe)
runs = read_tables(snakemake.input.runs)
if snakemake.params.setting is not None:  # a per-benchmark figure of a study with several benchmarks
    probe = probe[probe["setting"] == snakemake.params.setting]
    runs = runs[runs["setting"] == snakemake.params.setting]
figure = FIGURES[snakemake.params.kind](probe, runs, snakemake.params.title)
record = provenance.record(snakemake.params.config_hash, provenance.devices(runs))
save_figure(figure, snakemake.output.pdf, snakemake.output.png, provenance=record)
