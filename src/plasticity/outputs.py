"""Declared outputs: the tables and figures each study of config.yaml asks for, and those over several studies.

A study lists the kinds (plasticity.output_kinds.KINDS) it wants under `outputs`; the generic rules `table` and
`figure` build each one from the runs it shows and no others. Adding a study whose outputs are existing kinds is
a config.yaml edit alone; adding a kind is an entry in KINDS and a builder.
"""

from __future__ import annotations

from dataclasses import dataclass

from plasticity.config import ablation_title, base_setting, built_studies, figure_title, model_title, study_plan
from plasticity.output_kinds import KINDS, Kind


@dataclass(frozen=True)
class Output:
    """One declared output of a scale: its file stem below figures/<scale>/, kind, the studies and settings it
    shows, and the collected files it reads."""

    name: str
    kind: str
    scale: str
    studies: tuple[str, ...]
    setting: str | None  # the base setting of a per-setting output
    settings: tuple[str, ...]  # every setting it shows (regulariser grid points included)
    label: str
    title: str
    caption: str
    inputs: dict[str, list[str]]  # collected table -> files, in study and setting order

    @property
    def form(self) -> str:
        return KINDS[self.kind].form


def collected_file(scale: str, study: str, setting: str, table: str) -> str:
    return f"results/{scale}/{study}/{setting}/{table}.csv"


def _title(cfg: dict, scale: str, kind: Kind, study: str, setting: str | None, shown: list[str]) -> str:
    if kind.title == "ablation":
        return ablation_title(cfg, scale, study)
    if kind.title == "readings":  # of the default setting, the first shown
        return f"Protocol readings: {figure_title(cfg, scale, shown[0])}"
    if setting is None:
        return f"{cfg['studies'][study]['label']} ({scale})"
    return (model_title if kind.title == "model" else figure_title)(cfg, scale, setting)


def _output(cfg: dict, scale: str, name: str, kind_name: str, studies: list[str], setting: str | None,
            shown: list[str]) -> Output:
    """`shown`: the studies whose settings it shows (the rest of `studies` lend their runs of those settings)."""
    kind = KINDS[kind_name]
    inputs = {table: [collected_file(scale, study, base, table) for study in studies
                      for base in study_plan(cfg, scale, study)["base_settings"] if setting in (None, base)]
              for table in kind.reads}
    settings = [variant for study in shown for variant in study_plan(cfg, scale, study)["settings"]
                if setting in (None, base_setting(variant))]
    label = cfg["studies"][studies[0]]["label"]
    title = _title(cfg, scale, kind, studies[0], setting, settings)
    verdicts = "" if cfg["scales"][scale]["protocol"] else " No verdicts: a stand-in scale."
    return Output(name, kind_name, scale, tuple(studies), setting, tuple(dict.fromkeys(settings)), label, title,
                  kind.caption.format(label=label, scale=scale, title=title, verdicts=verdicts,
                                      early=cfg["metrics"]["early_parity_epochs"]), inputs)


def declared_outputs(cfg: dict, scale: str) -> dict[str, Output]:
    """Every table and figure the built studies of `scale` ask for, by file stem."""
    built = built_studies(cfg)
    outputs = {}
    for study in built:
        plan = study_plan(cfg, scale, study)
        for kind_name in cfg["studies"][study]["outputs"]:
            kind = KINDS[kind_name]
            for setting in plan["base_settings"] if kind.per == "setting" else [None]:
                name = kind.stem.format(study=study, setting=setting, kind=kind_name)
                outputs[name] = _output(cfg, scale, name, kind_name, [study], setting, [study])
    for name, combined in cfg["combined_outputs"].items():
        shown = combined["show"] or combined["studies"]
        if all(study in built for study in shown):  # `only_studies` without one of them: the output is not made
            studies = [study for study in combined["studies"] if study in built]
            outputs[name] = _output(cfg, scale, name, combined["kind"], studies, None, shown)
    return outputs
