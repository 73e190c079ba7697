"""The scorecard of one scale (every published number beside ours) and its claims table, as .csv/.md/.tex, a
figure (PDF, PNG) and a self-contained HTML page for the report.

Run by Snakemake's `script:` directive, which injects the `snakemake` object.
"""

from pathlib import Path

import pandas as pd

from plasticity import provenance
from plasticity.claims import claims_table
from plasticity.config import load_config
from plasticity.metrics import RUN_KEY
from plasticity.plots import save_figure
from plasticity.plots.scorecard import scorecard_figure
from plasticity.published import PUBLISHED_DIR
from plasticity.scorecard import Evidence, formatted_scorecard, html_page, load_mapping, mapping_problems, scorecard, verdict_counts
from plasticity.tables import write_table

cfg = load_config(snakemake.config)
scale = snakemake.wildcards.scale
mapping = load_mapping(snakemake.input.mapping)
problems = mapping_problems(mapping, cfg, PUBLISHED_DIR)
if problems:
    raise ValueError(f"{snakemake.input.mapping}:\n  " + "\n  ".join(problems))
def study_tables(files: dict[str, list[str]]) -> dict[str, pd.DataFrame]:
    return {study: pd.concat([pd.read_csv(path) for path in paths], ignore_index=True).pipe(
        lambda frame: frame.sort_values(RUN_KEY, kind="stable", ignore_index=True) if "c" in frame else frame)
        for study, paths in files.items()}


runs = study_tables(snakemake.params.runs)
norms = study_tables(snakemake.params.norms)
evidence = Evidence(cfg, scale, runs, norms)
card = scorecard(mapping, evidence)
claims = claims_table(evidence, mapping)
record = provenance.record(snakemake.params.config_hash, provenance.devices(*runs.values()))

label = f"Replication scorecard ({scale} scale)"
judged = "verdicts against the published 95% CI" if evidence.protocol else "a stand-in scale: no verdicts"
write_table(card, Path(snakemake.output.card[0]).with_suffix(""),
            f"{label}: every published number beside ours (mean ± 95% CI over seeds, in %; Welch p-values as they "
            f"are); {judged}.", formatted_scorecard(card), record, long=True)
write_table(claims, Path(snakemake.output.claims[0]).with_suffix(""),
            f"Claims of the papers as tests over our tables ({scale} scale).",
            claims.drop(columns=["claim_id", "scale"]), record)
figure = scorecard_figure(card, label)
save_figure(figure, snakemake.output.pdf, snakemake.output.png, provenance=record)
page = html_page(label, verdict_counts(card), claims, card, Path(snakemake.output.png).read_bytes(),
                 provenance.line(record))
Path(snakemake.output.html).write_text(page, encoding="utf-8")
