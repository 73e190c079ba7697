"""Dense/Grow/Prune study tables (summary, compactness-resolved, Welch p-values), each as .csv/.md/.tex.

Run by Snakemake's `script:` directive, which injects the `snakemake` object.
"""

from pathlib import Path

import pandas as pd

from plasticity import provenance
from plasticity.tables import compactness_table, summary_table, welch_p_table, write_table

runs = pd.read_csv(snakemake.input.runs)
record = provenance.record(snakemake.params.config_hash, provenance.devices(runs))
label = snakemake.params.label
captions = {
    "summary": f"{label}: winning-ticket accuracy and WT - Cycle gap per benchmark and method; Grow and Prune "
    "averaged over compactness levels (each seed averaged over c first), Dense the full network (c = 100); "
    "mean ± 95% CI over seeds, in %.",
    "compactness": f"{label}: Cycle and WT accuracy per benchmark, compactness c (%) and method (Dense at c < 100: "
    "its one-shot magnitude-pruned ticket; at 100: the full network); mean ± 95% CI over seeds, in %.",
    "welch": f"{label}: Welch two-sample t-test p-values (two-sided, unadjusted) per benchmark "
    "and compactness; Dense at c: Cycle metrics of the full network, WT metrics of its pruned ticket (the "
    "scorecard tests against the full network's WT, as the papers do).",
}
builders = {"summary": summary_table, "compactness": compactness_table, "welch": welch_p_table}
for name, build in builders.items():
    # Each named output is multiext(stem, ".csv", ".md", ".tex"); the stem is their shared prefix.
    stem = Path(snakemake.output[name][0]).with_suffix("")
    tidy, formatted = build(runs)
    write_table(tidy, stem, captions[name], formatted, record)
