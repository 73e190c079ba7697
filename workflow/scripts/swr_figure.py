"""One SWR figure (PDF and PNG) of one base setting: accuracy curves or per-layer weight norms (wildcards.kind).

Run by Snakemake's `script:` directive, which injects the `snakemake` object.
"""

import pandas as pd

from plasticity import provenance
from plasticity.plots import save_figure
from plasticity.plots.swr import accuracy_curves_figure, weight_norms_figure

runs = pd.read_csv(snakemake.input.runs)
runs = runs[runs["base_setting"] == snakemake.wildcards.setting]
epochs = pd.read_csv(snakemake.input.epochs)
epochs = epochs[epochs["setting"].isin(runs["setting"])]
if snakemake.wildcards.kind == "accuracy":
    figure = accuracy_curves_figure(epochs, runs, snakemake.params.title)
else:
    norms = pd.read_csv(snakemake.input.norms)
    figure = weight_norms_figure(norms[norms["setting"].isin(runs["setting"])], epochs, runs, snakemake.params.title)
record = provenance.record(snakemake.params.config_hash, provenance.devices(runs))
save_figure(figure, snakemake.output.pdf, snakemake.output.png, provenance=record)
