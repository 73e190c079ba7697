rule readings:
    """Every protocol reading of the readings studies beside the published band: table (.csv/.md/.tex) and figure."""
    input:
        mapping=SCORECARD_MAPPING,
        runs=lambda w: expand("results/{scale}/{study}/runs.csv", scale=w.scale, study=readings_studies(w.scale)),
    output:
        table=multiext("figures/{scale}/readings", ".csv", ".md", ".tex", ".provenance.json"),
        pdf="figures/{scale}/readings.pdf",
        png=report("figures/{scale}/readings.png", caption="../report/readings.rst", category="Scorecard",
                   subcategory="{scale}"),
    params:
        # The readings' own settings (their first is the default the others vary) and their companion studies'.
        settings=lambda w: list(dict.fromkeys(setting for study in ("readings", "readings_prune")
                                              if study in built_studies(cfg)
                                              for setting in study_plan(cfg, w.scale, study)["settings"])),
        default=lambda w: study_plan(cfg, w.scale, "readings")["settings"][0],
        config_hash=lambda w: study_hash(w.scale, *readings_studies(w.scale)),
    conda:
        "../../envs/pipeline.yaml"
    script:
        "../scripts/readings.py"


rule scorecard:
    """Every published number beside ours with a verdict, and the papers' claims as tests over our tables."""
    input:
        mapping=SCORECARD_MAPPING,
        published=sorted(str(path) for path in Path(workflow.basedir, "published").glob("*.csv")),
        runs=lambda w: expand("results/{scale}/{study}/runs.csv", scale=w.scale, study=scorecard_studies(w.scale)),
        norms=lambda w: expand("results/{scale}/{study}/norms.csv", scale=w.scale,
                               study=[s for s in scorecard_studies(w.scale) if s in SWR_FIGURES]),
    output:
        card=multiext("figures/{scale}/scorecard", ".csv", ".md", ".tex", ".provenance.json"),
        claims=multiext("figures/{scale}/claims", ".csv", ".md", ".tex", ".provenance.json"),
        pdf="figures/{scale}/scorecard.pdf",
        png=report("figures/{scale}/scorecard.png", caption="../report/scorecard.rst", category="Scorecard",
                   subcategory="{scale}"),
        html=report("figures/{scale}/scorecard.html", caption="../report/scorecard.rst", category="Scorecard",
                    subcategory="{scale}"),
    params:
        studies=lambda w: scorecard_studies(w.scale),
        norm_studies=lambda w: [s for s in scorecard_studies(w.scale) if s in SWR_FIGURES],
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
