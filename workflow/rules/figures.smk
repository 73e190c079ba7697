rule mlp_figure:
    """Cycle vs winning-ticket accuracy across compactness for one MLP benchmark."""
    input:
        runs="results/{scale}/mlp/runs.csv",
    output:
        pdf="figures/{scale}/mlp_{setting}.pdf",
        png=report("figures/{scale}/mlp_{setting}.png", caption="../report/mlp_figure.rst", category="MLP",
                   subcategory="{scale}"),
    params:
        title=lambda w: figure_title(cfg, w.scale, "mlp", w.setting),
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/mlp_figure.py"

