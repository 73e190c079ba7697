rule collect:
    """Tidy tables of one base setting of a study (its grid points and variants included): every epoch, event,
    probe, weight-norm and task row, and one metrics row per (setting, method, c, seed) with every RunConfig field;
    ticket metrics only for a study with tickets. An output reads the collections of the settings it shows."""
    input:
        epochs=lambda w: run_files(w.scale, setting_runs(w, run_grid), "train/epochs.csv")
        + (run_files(w.scale, setting_runs(w, ticket_grid), "ticket/epochs.csv")
           if study_plan(cfg, w.scale, w.study)["tickets"] else []),
        events=lambda w: run_files(w.scale, setting_runs(w, run_grid), "train/events.csv"),
        probe=lambda w: run_files(w.scale, setting_runs(w, run_grid), "train/probe.csv"),
        norms=lambda w: run_files(w.scale, setting_runs(w, run_grid), "train/norms.csv"),
        tasks=lambda w: run_files(w.scale, setting_runs(w, run_grid), "train/tasks.csv"),
    output:
        epochs="results/{scale}/{study}/{setting}/epochs.csv",
        events="results/{scale}/{study}/{setting}/events.csv",
        probe="results/{scale}/{study}/{setting}/probe.csv",
        norms="results/{scale}/{study}/{setting}/norms.csv",
        tasks="results/{scale}/{study}/{setting}/tasks.csv",
        runs="results/{scale}/{study}/{setting}/runs.csv",
    params:
        compactness=lambda w: study_plan(cfg, w.scale, w.study)["compactness"],
        tickets=lambda w: study_plan(cfg, w.scale, w.study)["tickets"],
        taa=cfg["metrics"],
        runs=lambda w: setting_runs(w, run_grid),
    conda:
        "../../envs/pipeline.yaml"
    script:
        "../scripts/collect.py"
