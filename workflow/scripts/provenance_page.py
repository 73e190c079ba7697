"""One table of the provenance records of a scale's outputs (.csv and a report page, .html).

Run by Snakemake's `script:` directive, which injects the `snakemake` object.
"""

import json
from pathlib import Path

from plasticity.io import atomic_write_csv, atomic_write_text
from plasticity.provenance import table

records = {Path(path).name.removesuffix(".provenance.json"): json.loads(Path(path).read_text())
           for path in snakemake.input}
frame = table(records)
atomic_write_csv(frame, snakemake.output.csv)
atomic_write_text("<!doctype html><html><head><meta charset='utf-8'><title>Provenance</title></head><body>"
                  f"<h1>Provenance of every output ({snakemake.wildcards.scale} scale)</h1>"
                  f"{frame.to_html(index=False)}</body></html>\n", snakemake.output.html)
