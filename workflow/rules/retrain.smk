rule retrain_ticket:
    """Winning ticket: the source run's final mask, weights reset, retrained for the full budget."""
    input:
        dataset=dataset_file,
        state=ticket_source_state,
    output:
        epochs=f"{RUN}/ticket/epochs.csv",
    params:
        run=run_of,
    log:
        f"{LOG}/ticket.log",
    threads: 1
    resources:
        mem_mb=training_mem_mb,
        runtime=training_runtime_min,
        gpu=training_gpus(),
    conda:
        "../../envs/pipeline.yaml"
    script:
        "../scripts/retrain.py"
