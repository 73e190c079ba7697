rule collect:
    """Tidy tables of a study: every epoch and event row, and one metrics row per (setting, method, c, seed)."""
    input:
        epochs=lambda w: run_files(w.scale, run_grid(cfg, w.scale, w.study), "train/epochs.csv")
        + run_files(w.scale, ticket_grid(cfg, w.scale, w.study), "ticket/epochs.csv"),
        events=lambda w: run_files(w.scale, run_grid(cfg, w.scale, w.study), "train/events.csv"),
    output:
        epochs="results/{scale}/{study}/epochs.csv",
        events="results/{scale}/{study}/events.csv",
        runs="results/{scale}/{study}/runs.csv",
    params:
        compactness=lambda w: study_plan(cfg, w.scale, w.study)["compactness"],
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/collect.py"


rule mlp_tables:
    """MLP study tables: summary, per compactness, Welch p-values; each as .csv, .md and .tex."""
    input:
        runs="results/{scale}/mlp/runs.csv",
    output:
        summary=multiext("figures/{scale}/mlp_summary", ".csv", ".md", ".tex"),
        compactness=multiext("figures/{scale}/mlp_compactness", ".csv", ".md", ".tex"),
        welch=multiext("figures/{scale}/mlp_welch", ".csv", ".md", ".tex"),
    params:
        scale=lambda w: w.scale,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/mlp_tables.py"
