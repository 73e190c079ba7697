rule comparison_figure:
    """Cycle vs winning-ticket accuracy across compactness for one benchmark of a Dense/Grow/Prune study."""
    input:
        runs="results/{scale}/{study}/runs.csv",
    output:
        pdf="figures/{scale}/{study}_{setting}.pdf",
        png=report("figures/{scale}/{study}_{setting}.png", caption="../report/comparison_figure.rst",
                   category="{study}", subcategory="{scale}"),
        provenance="figures/{scale}/{study}_{setting}.provenance.json",
    wildcard_constraints:
        study="|".join(COMPARISON_STUDIES),
    params:
        title=lambda w: figure_title(cfg, w.scale, w.setting),
        config_hash=lambda w: study_hash(w.scale, w.study),
    conda:
        "../../envs/pipeline.yaml"
    script:
        "../scripts/comparison_figure.py"


rule diagnostic_figure:
    """Newborn diagnostics of one benchmark of a study with the probe on (cohort parities around every edit)."""
    input:
        probe="results/{scale}/{study}/probe.csv",
        runs="results/{scale}/{study}/runs.csv",
    output:
        pdf="figures/{scale}/{study}_{setting}_{kind}.pdf",
        png=report("figures/{scale}/{study}_{setting}_{kind}.png", caption="../report/diagnostic_figure.rst",
                   category="{study}", subcategory="{scale}"),
        provenance="figures/{scale}/{study}_{setting}_{kind}.provenance.json",
    wildcard_constraints:
        study="|".join(DIAGNOSTIC_STUDIES),
        kind="|".join(SETTING_DIAGNOSTICS),
    params:
        title=lambda w: figure_title(cfg, w.scale, w.setting),
        kind=lambda w: w.kind,
        setting=lambda w: w.setting,
        config_hash=lambda w: study_hash(w.scale, w.study),
    conda:
        "../../envs/pipeline.yaml"
    script:
        "../scripts/diagnostic_figures.py"


rule ablation_figure:
    """A figure over the settings of an ablation study: heuristics (selectors) or cycles (K)."""
    input:
        probe="results/{scale}/{study}/probe.csv",
        runs="results/{scale}/{study}/runs.csv",
    output:
        pdf="figures/{scale}/{study}_{kind}.pdf",
        png=report("figures/{scale}/{study}_{kind}.png", caption="../report/diagnostic_figure.rst",
                   category="{study}", subcategory="{scale}"),
        provenance="figures/{scale}/{study}_{kind}.provenance.json",
    wildcard_constraints:
        study="|".join(ABLATION_FIGURES),
        kind="|".join({kind for kinds in ABLATION_FIGURES.values() for kind in kinds}),
    params:
        title=lambda w: ablation_title(cfg, w.scale, w.study),
        kind=lambda w: w.kind,
        setting=None,
        config_hash=lambda w: study_hash(w.scale, w.study),
    conda:
        "../../envs/pipeline.yaml"
    script:
        "../scripts/diagnostic_figures.py"


rule swr_figure:
    """One setting of an SWR study: test accuracy (accuracy) or per-layer weight norms (norms) over training."""
    input:
        epochs="results/{scale}/{study}/epochs.csv",
        norms="results/{scale}/{study}/norms.csv",
        runs="results/{scale}/{study}/runs.csv",
    output:
        pdf="figures/{scale}/{study}_{setting}_{kind}.pdf",
        png=report("figures/{scale}/{study}_{setting}_{kind}.png", caption="../report/swr_figure.rst",
                   category="{study}", subcategory="{scale}"),
        provenance="figures/{scale}/{study}_{setting}_{kind}.provenance.json",
    wildcard_constraints:
        study="|".join(SWR_FIGURES),
        kind="accuracy|norms",
    params:
        title=lambda w: model_title(cfg, w.scale, w.setting),
        config_hash=lambda w: study_hash(w.scale, w.study),
    conda:
        "../../envs/pipeline.yaml"
    script:
        "../scripts/swr_figure.py"
