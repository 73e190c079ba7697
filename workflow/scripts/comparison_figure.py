"""Figure for one benchmark of a Dense/Grow/Prune study: Cycle vs winning ticket across compactness (PDF and PNG).

Run by Snakemake's `script:` directive, which injects the `snakemake` object.
"""

import pandas as pd

from plasticity import provenance
from plasticity.plots import save_figure
from plasticity.plots.comparison import cycle_vs_ticket_figure

runs = pd.read_csv(snakemake.input.runs)
figure = cycle_vs_ticket_figure(runs, snakemake.wildcards.setting, snakemake.params.title)
record = provenance.record(snakemake.params.config_hash, provenance.devices(runs))
save_figure(figure, snakemake.output.pdf, snakemake.output.png, provenance=record)
