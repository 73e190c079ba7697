rule train:
    """One training run (setting x method x c x seed): per-epoch accuracy, edit events, probe and weight-norm
    rows, initial and final state."""
    input:
        dataset=dataset_file,
    output:
        epochs=f"{RUN}/train/epochs.csv",
        events=f"{RUN}/train/events.csv",
        state=f"{RUN}/train/state.pt",
        probe=f"{RUN}/train/probe.csv",
        norms=f"{RUN}/train/norms.csv",
    params:
        run=run_of,
    log:
        f"{LOG}/train.log",
    threads: 1
    resources:
        mem_mb=training_mem_mb,
        runtime=training_runtime_min,
        gpu=training_gpus(),
    conda:
        "../../envs/pipeline.yaml"
    script:
        "../scripts/train.py"
