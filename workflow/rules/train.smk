# One rule per scale and block of seeds (common.smk, seed_blocks): a job trains the runs (setting x method x c
# x seed) of its block one after another in one process.
TRAIN_FILES = ["epochs.csv", "events.csv", "state.pt", "probe.csv", "norms.csv", "tasks.csv"]

for scale in cfg["scales"]:
    for seeds in seed_blocks(scale):

        rule:
            """Training runs: per-epoch accuracy, edit events, probe, weight-norm and task rows, initial and final state."""
            name:
                block_rule_name("train", scale, seeds)
            input:
                dataset=dataset_file(scale),
            output:
                [f"{run}/train/{name}" for run in block_dirs("results", scale, seeds) for name in TRAIN_FILES],
            params:
                runs=block_runs(scale, seeds),
                out_dirs=block_out_dirs(scale, seeds, "train"),
            log:
                [f"{run}/train.log" for run in block_dirs("logs", scale, seeds)],
            threads: 1
            resources:
                mem_mb=training_mem_mb,
                runtime=training_runtime_min(scale, seeds),
                gpu=training_gpus(),
            conda:
                "../../envs/pipeline.yaml"
            script:
                "../scripts/train.py"
