rule collect:
    """Tidy tables of a study: every epoch, event, probe and weight-norm row, and one metrics row per
    (setting, method, c, seed); ticket metrics only for a study with tickets."""
    input:
        epochs=lambda w: run_files(w.scale, run_grid(cfg, w.scale, w.study), "train/epochs.csv")
        + (run_files(w.scale, ticket_grid(cfg, w.scale, w.study), "ticket/epochs.csv")
           if study_plan(cfg, w.scale, w.study)["tickets"] else []),
        events=lambda w: run_files(w.scale, run_grid(cfg, w.scale, w.study), "train/events.csv"),
        probe=lambda w: run_files(w.scale, run_grid(cfg, w.scale, w.study), "train/probe.csv"),
        norms=lambda w: run_files(w.scale, run_grid(cfg, w.scale, w.study), "train/norms.csv"),
    output:
        epochs="results/{scale}/{study}/epochs.csv",
        events="results/{scale}/{study}/events.csv",
        probe="results/{scale}/{study}/probe.csv",
        norms="results/{scale}/{study}/norms.csv",
        runs="results/{scale}/{study}/runs.csv",
    params:
        compactness=lambda w: study_plan(cfg, w.scale, w.study)["compactness"],
        tickets=lambda w: study_plan(cfg, w.scale, w.study)["tickets"],
        taa=cfg["metrics"],
        runs=lambda w: run_grid(cfg, w.scale, w.study),
    conda:
        "../../envs/pipeline.yaml"
    script:
        "../scripts/collect.py"


rule comparison_tables:
    """Dense vs Grow vs Prune tables: summary, per compactness, Welch p-values; each as .csv, .md and .tex."""
    input:
        runs="results/{scale}/{study}/runs.csv",
    output:
        summary=multiext("figures/{scale}/{study}_summary", ".csv", ".md", ".tex", ".provenance.json"),
        compactness=multiext("figures/{scale}/{study}_compactness", ".csv", ".md", ".tex", ".provenance.json"),
        welch=multiext("figures/{scale}/{study}_welch", ".csv", ".md", ".tex", ".provenance.json"),
    wildcard_constraints:
        study="|".join(COMPARISON_STUDIES),
    params:
        label=lambda w: f"{COMPARISON_STUDIES[w.study]} study ({w.scale} scale)",
        config_hash=lambda w: study_hash(w.scale, w.study),
    conda:
        "../../envs/pipeline.yaml"
    script:
        "../scripts/comparison_tables.py"


rule ablation_table:
    """Grow ablation table (selector heuristics or allocation schedules) as .csv, .md and .tex."""
    input:
        runs="results/{scale}/{study}/runs.csv",
    output:
        table=multiext("figures/{scale}/{study}_table", ".csv", ".md", ".tex", ".provenance.json"),
    wildcard_constraints:
        study="heuristics|allocation",
    params:
        caption=lambda w: ABLATION_TABLE_CAPTIONS[w.study].format(scale=w.scale),
        config_hash=lambda w: study_hash(w.scale, w.study),
    conda:
        "../../envs/pipeline.yaml"
    script:
        "../scripts/ablation_table.py"


rule swr_table:
    """SWR single-task table: final test accuracy per model, dataset, LR schedule and regulariser at its
    best-validation lambda, as .csv, .md and .tex."""
    input:
        runs=expand("results/{{scale}}/{study}/runs.csv", study=SWR_TABLE_STUDIES),
    output:
        table=multiext("figures/{scale}/swr_single_task", ".csv", ".md", ".tex", ".provenance.json"),
    params:
        caption=lambda w: f"Soft Weight Rescaling, single task ({w.scale} scale): final test accuracy per model, "
        "dataset and LR schedule, each regulariser at the lambda with the best mean final validation accuracy "
        "(held-out training data); mean ± 95% CI over seeds, in %.",
        config_hash=lambda w: study_hash(w.scale, *SWR_TABLE_STUDIES),
    conda:
        "../../envs/pipeline.yaml"
    script:
        "../scripts/swr_table.py"
