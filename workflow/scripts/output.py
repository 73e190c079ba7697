"""Any declared output (plasticity.outputs): its tables read and concatenated, its builder run, the table
(.csv, .md, .tex) or figure (.pdf, .png) written with its provenance.

Run by Snakemake's `script:` directive, which injects the `snakemake` object.
"""

from pathlib import Path

import pandas as pd

from plasticity import provenance
from plasticity.builders import build
from plasticity.config import load_config
from plasticity.metrics import RUN_KEY
from plasticity.output_kinds import KINDS
from plasticity.plots import save_figure
from plasticity.tables import write_table

output = snakemake.params.output
kind = KINDS[output.kind]
tables = {}
for table in kind.reads:
    frame = pd.concat([pd.read_csv(path) for path in snakemake.input[table]], ignore_index=True)
    # runs.csv rows in run order, as one study-wide table would list them
    tables[table] = frame.sort_values(RUN_KEY, kind="stable", ignore_index=True) if table == "runs" else frame
files = {name: snakemake.input[name] for name in kind.files}
result = build(output, tables, load_config(snakemake.config), files)
record = provenance.record(snakemake.params.config_hash, provenance.devices(tables["runs"]) if "runs" in tables else [])
if kind.form == "table":
    tidy, formatted = result
    write_table(tidy, Path(snakemake.output[0]).with_suffix(""), output.caption, formatted, record)
else:
    save_figure(result, snakemake.output.pdf, snakemake.output.png, provenance=record)
