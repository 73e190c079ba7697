"""The SWR single-task table (.csv, .md, .tex) from the runs tables of the single-task SWR studies.

Run by Snakemake's `script:` directive, which injects the `snakemake` object.
"""

from pathlib import Path

import pandas as pd

from plasticity import provenance
from plasticity.swr import single_task_table
from plasticity.tables import write_table

runs = pd.concat([pd.read_csv(path) for path in snakemake.input.runs], ignore_index=True)
tidy, formatted = single_task_table(runs)
record = provenance.record(snakemake.params.config_hash, provenance.devices(runs))
write_table(tidy, Path(snakemake.output.table[0]).with_suffix(""), snakemake.params.caption, formatted, record)
