# The generic rules of every declared output (plasticity.outputs): one builds tables, one builds figures.


rule table:
    """A declared table of a study, of one of its settings, or of several studies (.csv, .md, .tex)."""
    input:
        unpack(output_inputs),
    output:
        multiext("figures/{scale}/{name}", ".csv", ".md", ".tex", ".provenance.json"),
    wildcard_constraints:
        name=declared_names("table"),
    params:
        output=lambda w: declared(w.scale)[w.name],
        config_hash=lambda w: study_hash(w.scale, *declared(w.scale)[w.name].studies),
    conda:
        "../../envs/pipeline.yaml"
    script:
        "../scripts/output.py"


rule figure:
    """A declared figure of a study, of one of its settings, or of several studies (.pdf, .png)."""
    input:
        unpack(output_inputs),
    output:
        pdf="figures/{scale}/{name}.pdf",
        png=report("figures/{scale}/{name}.png", caption="../report/output.rst", category="{scale}"),
        provenance="figures/{scale}/{name}.provenance.json",
    wildcard_constraints:
        name=declared_names("figure"),
    params:
        output=lambda w: declared(w.scale)[w.name],
        config_hash=lambda w: study_hash(w.scale, *declared(w.scale)[w.name].studies),
    conda:
        "../../envs/pipeline.yaml"
    script:
        "../scripts/output.py"
