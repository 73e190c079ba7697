# One rule per scale and block of seeds, as the training rules (train.smk).
for scale in cfg["scales"]:
    for seeds in seed_blocks(scale):

        rule:
            """Winning tickets: each source run's final mask, weights reset, retrained for the full budget."""
            name:
                block_rule_name("retrain_ticket", scale, seeds)
            input:
                dataset=dataset_file(scale),
                states=ticket_source_states(scale, seeds),
            output:
                [f"{run}/ticket/epochs.csv" for run in block_dirs("results", scale, seeds)],
            params:
                runs=block_runs(scale, seeds),
                out_dirs=block_out_dirs(scale, seeds, "ticket"),
            log:
                [f"{run}/ticket.log" for run in block_dirs("logs", scale, seeds)],
            threads: 1
            resources:
                mem_mb=training_mem_mb,
                runtime=training_runtime_min(scale, seeds),
                gpu=training_gpus(),
            conda:
                "../../envs/pipeline.yaml"
            script:
                "../scripts/retrain.py"
