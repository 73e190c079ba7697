rule scorecard:
    """Every published number beside ours with a verdict, and the papers' claims as tests over our tables."""
    input:
        mapping=SCORECARD_MAPPING,
        published=sorted(str(path) for path in Path(workflow.basedir, "published").glob("*.csv")),
        runs=lambda w: sum(collected_files(w.scale, scorecard_studies(w.scale), "runs").values(), []),
        norms=lambda w: sum(collected_files(w.scale, scorecard_norm_studies(w.scale), "norms").values(), []),
    output:
        card=multiext("figures/{scale}/scorecard", ".csv", ".md", ".tex", ".provenance.json"),
        claims=multiext("figures/{scale}/claims", ".csv", ".md", ".tex", ".provenance.json"),
        pdf="figures/{scale}/scorecard.pdf",
        png=report("figures/{scale}/scorecard.png", caption="../report/scorecard.rst", category="Scorecard",
                   subcategory="{scale}"),
        html=report("figures/{scale}/scorecard.html", caption="../report/scorecard.rst", category="Scorecard",
                    subcategory="{scale}"),
    params:
        runs=lambda w: collected_files(w.scale, scorecard_studies(w.scale), "runs"),
        norms=lambda w: collected_files(w.scale, scorecard_norm_studies(w.scale), "norms"),
        config_hash=lambda w: study_hash(w.scale, *scorecard_studies(w.scale)),
    conda:
        "../../envs/pipeline.yaml"
    script:
        "../scripts/scorecard.py"


rule provenance_page:
    """The provenance of every table and figure of a scale in one table (.csv) and report page (.html)."""
    input:
        lambda w: provenance_records(w.scale),
    output:
        csv="figures/{scale}/provenance.csv",
        html=report("figures/{scale}/provenance.html", caption="../report/provenance.rst", category="Provenance",
                    subcategory="{scale}"),
    conda:
        "../../envs/pipeline.yaml"
    script:
        "../scripts/provenance_page.py"
