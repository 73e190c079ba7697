"""A Grow ablation table (heuristics: selector; allocation: schedules) as .csv, .md and .tex.

Run by Snakemake's `script:` directive, which injects the `snakemake` object.
"""

from pathlib import Path

import pandas as pd

from plasticity.diagnostics import allocation_table, heuristic_table
from plasticity import provenance
from plasticity.tables import write_table

BUILDERS = {"heuristics": heuristic_table, "allocation": allocation_table}

runs = pd.read_csv(snakemake.input.runs)
tidy, formatted = BUILDERS[snakemake.wildcards.study](runs)
record = provenance.record(snakemake.params.config_hash, provenance.devices(runs))
write_table(tidy, Path(snakemake.output.table[0]).with_suffix(""), snakemake.params.caption, formatted, record)
