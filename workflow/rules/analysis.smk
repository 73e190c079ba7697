rule collect:
    """Tidy tables of a study: every epoch, event and probe row, and one metrics row per (setting, method, c, seed)."""
    input:
        epochs=lambda w: run_files(w.scale, run_grid(cfg, w.scale, w.study), "train/epochs.csv")
        + run_files(w.scale, ticket_grid(cfg, w.scale, w.study), "ticket/epochs.csv"),
        events=lambda w: run_files(w.scale, run_grid(cfg, w.scale, w.study), "train/events.csv"),
        probe=lambda w: run_files(w.scale, run_grid(cfg, w.scale, w.study), "train/probe.csv"),
    output:
        epochs="results/{scale}/{study}/epochs.csv",
        events="results/{scale}/{study}/events.csv",
        probe="results/{scale}/{study}/probe.csv",
        runs="results/{scale}/{study}/runs.csv",
    params:
        compactness=lambda w: study_plan(cfg, w.scale, w.study)["compactness"],
        runs=lambda w: run_grid(cfg, w.scale, w.study),
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/collect.py"


rule comparison_tables:
    """Dense vs Grow vs Prune tables: summary, per compactness, Welch p-values; each as .csv, .md and .tex."""
    input:
        runs="results/{scale}/{study}/runs.csv",
    output:
        summary=multiext("figures/{scale}/{study}_summary", ".csv", ".md", ".tex"),
        compactness=multiext("figures/{scale}/{study}_compactness", ".csv", ".md", ".tex"),
        welch=multiext("figures/{scale}/{study}_welch", ".csv", ".md", ".tex"),
    wildcard_constraints:
        study="|".join(COMPARISON_STUDIES),
    params:
        label=lambda w: f"{COMPARISON_STUDIES[w.study]} study ({w.scale} scale)",
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/comparison_tables.py"


rule ablation_table:
    """Grow ablation table (selector heuristics or allocation schedules) as .csv, .md and .tex."""
    input:
        runs="results/{scale}/{study}/runs.csv",
    output:
        table=multiext("figures/{scale}/{study}_table", ".csv", ".md", ".tex"),
    wildcard_constraints:
        study="heuristics|allocation",
    params:
        caption=lambda w: ABLATION_TABLE_CAPTIONS[w.study].format(scale=w.scale),
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/ablation_table.py"
