# The data rule may download archives: under a cluster executor it runs where Snakemake runs (the login
# node, often the only host with internet access), not as a cluster job. Local runs are unaffected.
localrules:
    prepare_data,


rule prepare_data:
    """One dataset as uint8 tensors, prepared per scale so synthetic smoke data never mixes with real data."""
    output:
        "results/{scale}/data/{dataset}.pt",
    params:
        spec=lambda w: cfg["data"]["datasets"][w.dataset],
    conda:
        "../../envs/pipeline.yaml"
    script:
        "../scripts/prepare_data.py"
