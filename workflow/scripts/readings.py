"""The protocol-readings table (.csv/.md/.tex) and figure (PDF, PNG) of one scale.

Run by Snakemake's `script:` directive, which injects the `snakemake` object.
"""

from pathlib import Path

import pandas as pd

from plasticity import provenance
from plasticity.config import load_config
from plasticity.metrics import RUN_KEY
from plasticity.plots import save_figure
from plasticity.plots.scorecard import readings_figure
from plasticity.readings import READING_METRICS, readings_table
from plasticity.scorecard import load_mapping, published_summary
from plasticity.tables import mean_over_compactness, write_table

cfg = load_config(snakemake.config)
scale, default = snakemake.wildcards.scale, snakemake.params.default
tables = [pd.read_csv(path) for path in snakemake.input.runs]
runs = pd.concat(tables, ignore_index=True)
runs = runs[runs["setting"].isin(snakemake.params.settings)].drop_duplicates(RUN_KEY)
published = published_summary(load_mapping(snakemake.input.mapping), cfg, default)
protocol = cfg["scales"][scale]["protocol"]
tidy, formatted = readings_table(runs, cfg, scale, default, published, protocol)
record = provenance.record(snakemake.params.config_hash, provenance.devices(*tables))
benchmark = published["setting"].iloc[0] if len(published) else default
title = f"Protocol readings, {benchmark} ({scale} scale)"
write_table(tidy, Path(snakemake.output.table[0]).with_suffix(""),
            f"{title}: every reading of what the protocol leaves open, each differing from the default in the keys "
            "named; Grow and Prune averaged over c per seed, Dense the full network; mean ± 95% CI over seeds, in %; "
            "the published summary (SP Tables 1 and 3) beside it" + ("." if protocol else ", no verdicts at a stand-in scale."),
            formatted, record)
per_seed = mean_over_compactness(runs, list(READING_METRICS))
per_seed[list(READING_METRICS)] *= 100
save_figure(readings_figure(tidy, per_seed, title), snakemake.output.pdf, snakemake.output.png, provenance=record)
