"""The replication scorecard: every published number beside ours, with a verdict.

workflow/scorecard.yaml maps each published results table (published/) onto the runs table of one of our
studies; `scorecard` makes one row per published row. Values are percent (SWR's fractions are scaled), p-values
as they are. Verdicts, at a scale with `protocol: true` only (elsewhere a row is a stand-in):

- accuracies and deltas: "within published CI" (our mean lies in the published interval), "CIs overlap",
  "different"; an interval the paper omits, or ours from one seed, counts as zero-width;
- Welch p-values: whether ours and the paper's fall on the same side of 0.05;
- "not run": the table, setting or study has no counterpart at this scale, with the reason;
- "stand-in only": a scale that does not run the protocol (e.g. quick: Fashion-MNIST for MNIST and CIFAR).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import pandas as pd
import yaml

from plasticity.config import DATASET_NAMES, run_config, study_plan
from plasticity.continual import selected_runs
from plasticity.metrics import DENSE_TRAINING_C
from plasticity.published import read_rows
from plasticity.stats import mean_ci, welch
from plasticity.swr import select_strengths
from plasticity.tables import mean_over_compactness

WITHIN, OVERLAP, DIFFERENT = "within published CI", "CIs overlap", "different"
SAME_SIDE, OTHER_SIDE = "same side of p = 0.05", "other side of p = 0.05"
NOT_RUN, STAND_IN = "not run", "stand-in only"
VERDICTS = [WITHIN, OVERLAP, DIFFERENT, SAME_SIDE, OTHER_SIDE, STAND_IN, NOT_RUN]
PUBLISHED_COLUMNS = ["paper", "table", "setting", "model", "method", "compactness", "metric", "comparison", "phase"]
# What tells a stand-in from the protocol run it replaces, in the words of the scorecard's notes.
STAND_IN_KEYS = {"dataset": "dataset", "model": "model", "hidden": "hidden units", "train_subset": "training images",
                 "test_subset": "test images", "cycles": "cycles", "epochs_per_cycle": "epochs per cycle",
                 "batch_size": "batch size"}

MAPPING_SCHEMA = yaml.safe_load("""
type: object
additionalProperties:
  type: object
  additionalProperties: false
  properties:
    study: {type: string}
    key: {type: array, items: {enum: [setting, model]}}
    settings: {type: object, additionalProperties: {type: object, additionalProperties: {type: string}}}
    methods:
      type: object
      additionalProperties:
        anyOf:
          - {type: string}
          - {type: object, additionalProperties: false, required: [method],
             properties: {method: {type: string}, suffix: {type: string}, variant: {type: string}}}
    comparisons: {type: object, additionalProperties: {type: array, items: {type: string}, minItems: 2, maxItems: 2}}
    tested: {enum: [acc, taa]}
    metrics: {type: object, additionalProperties: {type: string}}
    over_c: {const: mean}
    percent: {type: number}
    not_run: {type: string}
    claims: {type: array, items: {type: string}}
""")


def load_mapping(path: str | Path) -> dict:
    mapping = yaml.safe_load(Path(path).read_text())
    errors = sorted(jsonschema.Draft202012Validator(MAPPING_SCHEMA).iter_errors(mapping), key=str)
    if errors:
        raise ValueError(f"{path}: " + "; ".join(f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in errors))
    return mapping


@dataclass
class Evidence:
    """What one scale has built: the runs (and weight-norm) tables of its built studies, keyed by study."""

    cfg: dict
    scale: str
    runs: dict[str, pd.DataFrame]
    norms: dict[str, pd.DataFrame] = field(default_factory=dict)
    _selected: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def protocol(self) -> bool:
        return self.cfg["scales"][self.scale]["protocol"]

    def has_grid(self, study: str) -> bool:
        return bool(study_plan(self.cfg, self.scale, study).get("regularizers"))

    def has_lrs(self, study: str) -> bool:
        return bool(study_plan(self.cfg, self.scale, study).get("lrs"))

    def selected(self, study: str) -> pd.DataFrame:
        """An SWR study's runs at the lambda it selects per setting and regulariser; a study with an LR grid's at
        the LR it selects per benchmark, variant, method and c (plasticity.continual)."""
        if study not in self._selected:
            runs = self.runs[study]
            self._selected[study] = selected_runs(runs) if self.has_lrs(study) else select_strengths(runs)
        return self._selected[study]


def protocol_scale(cfg: dict) -> str:
    return next(scale for scale, values in cfg["scales"].items() if values["protocol"])


def setting_key(spec: dict, row: dict) -> str:
    return " | ".join(row[column] for column in spec.get("key", ["setting"]))


def our_method(spec: dict, published_method: str, setting: str) -> tuple[str, str]:
    """(our method or regulariser kind, our setting) of a published method name."""
    method = spec["methods"][published_method]
    if isinstance(method, dict):
        return method["method"], setting + method.get("suffix", "")
    return method, setting


def our_variant(spec: dict, published_method: str) -> str:
    """The study variant a published method name runs (e.g. Grow+TwoSpeed: two_speed), `none` for a plain method."""
    method = spec["methods"][published_method]
    return method.get("variant", "none") if isinstance(method, dict) else "none"


def stand_in_note(cfg: dict, scale: str, study: str, setting: str, protocol_setting: str) -> str:
    """How a stand-in run differs from the protocol run it replaces, e.g. 'dataset Fashion-MNIST (paper: MNIST)'."""
    paper = protocol_scale(cfg)
    ours, protocol = (run_config(cfg, s, name, "dense", DENSE_TRAINING_C, 1) for s, name in
                      ((scale, setting), (paper, protocol_setting)))
    def shown(key, value):
        if key == "dataset":
            return DATASET_NAMES.get(value, value)
        return "all" if key.endswith("subset") and value == 0 else value
    parts = [f"{label} {shown(key, ours[key])} ({paper}: {shown(key, protocol[key])})"
             for key, label in STAND_IN_KEYS.items() if ours[key] != protocol[key]]
    seeds = [study_plan(cfg, s, study)["seeds"] for s in (scale, paper)]
    if seeds[0] != seeds[1]:
        parts.append(f"seeds {seeds[0]} ({paper}: {seeds[1]})")
    return f"{scale} stand-in: " + ("; ".join(parts) if parts else "the protocol's configuration")


def interval_verdict(ours: float, ours_ci: float, published: float, published_ci: float) -> str:
    ours_ci, published_ci = (0.0 if math.isnan(ci) else ci for ci in (ours_ci, published_ci))
    gap = abs(ours - published)
    if gap <= published_ci:
        return WITHIN
    return OVERLAP if gap <= published_ci + ours_ci else DIFFERENT


def _number(text: str) -> float:
    return float(text) if text.strip() else math.nan


def _not_run(reason: str) -> dict:
    return {"verdict": NOT_RUN, "note": reason}


def _seed_values(spec: dict, row: dict, evidence: Evidence, setting: str) -> tuple[pd.Series, str, str]:
    """Our per-seed values of a published (non-Welch) row, with our method and setting."""
    study = spec["study"]
    method, setting = our_method(spec, row["method"], setting)
    column = spec["metrics"][row["metric"]]
    if evidence.has_lrs(study):  # Dense is the full network in every compactness block, as published
        selected, variant = evidence.selected(study), our_variant(spec, row["method"])
        c = DENSE_TRAINING_C if method == "dense" else int(row["compactness"])
        frame = selected[(selected["base_setting"] == setting) & (selected["method"] == method)
                         & (selected["variant"] == variant) & (selected["c"] == c)]
        return frame[column], method, frame["setting"].iloc[0] if len(frame) else setting
    if evidence.has_grid(study):
        selected = evidence.selected(study)
        frame = selected[(selected["base_setting"] == setting) & (selected["regularizer.kind"] == method)]
        return frame[column], method, frame["setting"].iloc[0] if len(frame) else setting
    runs = evidence.runs[study]
    frame = runs[(runs["setting"] == setting) & (runs["method"] == method)]
    if not row["compactness"] and spec.get("over_c") == "mean":
        return mean_over_compactness(frame, [column])[column], method, setting
    return frame.loc[frame["c"] == int(row["compactness"]), column], method, setting


def _welch_row(spec: dict, row: dict, evidence: Evidence, setting: str, published: float) -> dict:
    runs = evidence.runs[spec["study"]]
    column = f"{row['phase']}_{spec['tested']}"
    c = int(row["compactness"])
    sides = []
    for method in spec["comparisons"][row["comparison"]]:
        level = DENSE_TRAINING_C if method == "dense" else c  # Dense is the full network, as published
        sides.append(runs.loc[(runs["setting"] == setting) & (runs["method"] == method) & (runs["c"] == level), column])
    p = welch(*sides)
    result = {"our_method": " vs ".join(spec["comparisons"][row["comparison"]]), "ours_mean": p,
              "ours_n": min(len(side) for side in sides)}
    if math.isnan(p):
        return {**result, **_not_run(f"fewer than two seeds of each method at c={c}")}
    if evidence.protocol:
        result["verdict"] = SAME_SIDE if (p < 0.05) == (published < 0.05) else OTHER_SIDE
    return result


def score_row(spec: dict, row: dict, evidence: Evidence) -> dict:
    """Our side of one published row: study, setting, method, mean, CI, n, difference, verdict and note."""
    if "not_run" in spec:
        return _not_run(spec["not_run"])
    study, key = spec["study"], setting_key(spec, row)
    setting = spec["settings"][key].get(evidence.scale)
    if setting is None:
        return _not_run(f"no counterpart of {key} at the {evidence.scale} scale")
    if study not in evidence.runs:
        return {"study": study, **_not_run(f"study {study} is not built at the {evidence.scale} scale")}
    if setting not in study_plan(evidence.cfg, evidence.scale, study)["base_settings"]:
        return {"study": study, **_not_run(f"setting {setting} is not in study {study} at the {evidence.scale} scale")}
    protocol_setting = spec["settings"][key][protocol_scale(evidence.cfg)]
    note = "" if evidence.protocol else stand_in_note(evidence.cfg, evidence.scale, study, setting, protocol_setting)
    result = {"study": study, "our_setting": setting, "verdict": STAND_IN, "note": note}
    published = _number(row["mean"]) * spec.get("percent", 1)
    if "comparisons" in spec:
        return {**result, **_welch_row(spec, row, evidence, setting, published)}
    values, method, our_setting = _seed_values(spec, row, evidence, setting)
    result.update(our_method=method, our_setting=our_setting)
    if values.empty:
        at = f" at c={row['compactness']}" if row["compactness"] else ""
        return {**result, **_not_run(f"no runs of {our_setting}/{method}{at} in study {study}")}
    mean, ci = mean_ci(100 * values.to_numpy())
    result.update(ours_mean=mean, ours_ci=ci, ours_n=len(values), difference=mean - published)
    if evidence.protocol:
        result["verdict"] = interval_verdict(mean, ci, published, _number(row["ci95"]) * spec.get("percent", 1))
    return result


def scorecard(mapping: dict, evidence: Evidence) -> pd.DataFrame:
    """One row per published result (every table of the mapping but text claims): the published value, ours and
    the verdict."""
    rows = []
    for name, spec in mapping.items():
        if "claims" in spec:
            continue
        for row in read_rows(name):
            percent = spec.get("percent", 1) if row["metric"] != "welch_p" else 1
            rows.append({**{column: row[column] for column in PUBLISHED_COLUMNS},
                         "published_mean": _number(row["mean"]) * percent,
                         "published_ci": _number(row["ci95"]) * percent, "published_n": _number(row["n_seeds"]),
                         "published_note": row["note"], **score_row(spec, row, evidence)})
    columns = PUBLISHED_COLUMNS + ["published_mean", "published_ci", "published_n", "study", "our_setting",
                                   "our_method", "ours_mean", "ours_ci", "ours_n", "difference", "verdict", "note",
                                   "published_note"]
    return pd.DataFrame(rows).reindex(columns=columns)


def mapping_problems(mapping: dict, cfg: dict, published_dir: Path) -> list[str]:
    """Every published results table or row without a mapping, and every mapping to a study, setting, method or
    column that does not exist. Each row must find its protocol-scale setting and its method in the study as
    `studies` declares it: a scale or an overlay may narrow a study (reference/paper builds one setting of
    `mlp`), and the rows it leaves out are "not run" there, not errors. At other scales a mapped setting must
    exist. The claims of a text-claims file are checked by plasticity.claims."""
    from plasticity.continual import CONTINUAL_METRICS
    from plasticity.metrics import METRICS, TAA_READINGS

    results = sorted(path.name for path in published_dir.glob("*.csv") if not path.name.startswith("protocol_"))
    problems = [f"published/{name} has no entry in the scorecard mapping" for name in results if name not in mapping]
    columns = set(METRICS + TAA_READINGS + CONTINUAL_METRICS + ["val_acc"])
    paper = protocol_scale(cfg)
    for name, spec in mapping.items():
        if "not_run" in spec or "claims" in spec:
            continue
        study = spec["study"]
        if study not in cfg["studies"]:
            problems.append(f"{name}: unknown study {study}")
            continue
        for key, scales in spec["settings"].items():
            problems += [f"{name}: {key} at scale {scale} maps to unknown setting {setting}"
                         for scale, setting in scales.items() if setting not in cfg["settings"]]
        declared = cfg["studies"][study]
        known = set(declared.get("regularizers", {})) or set(declared["methods"])
        for row in read_rows(name):
            key = setting_key(spec, row)
            if key not in spec["settings"] or paper not in spec["settings"][key]:
                problems.append(f"{name}: published setting {key!r} has no mapping at the {paper} scale")
                continue
            setting = spec["settings"][key][paper]
            if row["metric"] == "welch_p":
                pair = spec.get("comparisons", {}).get(row["comparison"], [])
                if not pair:
                    problems.append(f"{name}: comparison {row['comparison']!r} has no mapping")
                problems += [f"{name}: {method} is not a method of study {study}" for method in pair if method not in known]
                continue
            if row["method"] not in spec.get("methods", {}):
                problems.append(f"{name}: method {row['method']!r} has no mapping")
                continue
            method, variant = our_method(spec, row["method"], setting)
            if method not in known:
                problems.append(f"{name}: {row['method']} maps to {method}, not a method of study {study}")
            if variant not in declared["settings"]:
                problems.append(f"{name}: {row['method']} maps to setting {variant}, not in study {study} at {paper}")
            if our_variant(spec, row["method"]) not in {"none", *declared.get("variants", {})}:
                problems.append(f"{name}: {row['method']} maps to variant {our_variant(spec, row['method'])}, "
                                f"not a variant of study {study}")
            metric = spec.get("metrics", {}).get(row["metric"])
            if metric not in columns:
                problems.append(f"{name}: metric {row['metric']!r} maps to {metric!r}, not a runs.csv column")
    return sorted(set(problems))


def published_summary(mapping: dict, cfg: dict, setting: str) -> pd.DataFrame:
    """The published per-method summary of the benchmark that our `setting` runs at the protocol scale: SP
    Table 1's rows (Grow and Prune averaged over c, Dense once), with Table 3's interval for Dense, which Table 1
    omits. Columns method (ours), metric (ours), mean, ci."""
    paper = protocol_scale(cfg)
    rows = []
    for name, spec in mapping.items():
        if spec.get("over_c") != "mean":
            continue
        keys = [key for key, scales in spec["settings"].items() if scales.get(paper) == setting]
        for row in read_rows(name):
            if setting_key(spec, row) in keys:
                rows.append({"method": spec["methods"][row["method"]], "metric": spec["metrics"][row["metric"]],
                             "setting": row["setting"], "mean": _number(row["mean"]), "ci": _number(row["ci95"])})
    summary = pd.DataFrame(rows, columns=["method", "metric", "setting", "mean", "ci"])
    for name, spec in mapping.items():
        if spec.get("over_c") == "mean" or "methods" not in spec:
            continue
        for row in read_rows(name):
            if row["compactness"] == str(DENSE_TRAINING_C):
                hit = ((summary["setting"] == row["setting"]) & (summary["method"] == spec["methods"][row["method"]])
                       & (summary["metric"] == spec["metrics"][row["metric"]]))
                summary.loc[hit & summary["ci"].isna(), "ci"] = _number(row["ci95"])
    return summary


def formatted_scorecard(card: pd.DataFrame) -> pd.DataFrame:
    """One line per published number: where it is, the published value, ours (n), the difference and the verdict."""
    def value(mean, ci, p_value: bool) -> str:
        if pd.isna(mean):
            return ""
        if p_value:
            return f"{mean:.3g}"
        return f"{mean:.2f}" if pd.isna(ci) else f"{mean:.2f} ± {ci:.2f}"

    p_values = card["metric"] == "welch_p"
    return pd.DataFrame({
        "Table": card["paper"] + " " + card["table"],
        "Setting": card["setting"] + card["model"].map(lambda model: f" ({model})" if model else ""),
        "Method": card["method"].where(~p_values, card["comparison"] + " (" + card["phase"] + ")"),
        "c": card["compactness"],
        "Metric": card["metric"],
        "Published": [value(m, c, p) for m, c, p in zip(card["published_mean"], card["published_ci"], p_values)],
        "Ours": [value(m, c, p) + (f" (n={int(n)})" if not pd.isna(n) else "")
                 for m, c, n, p in zip(card["ours_mean"], card["ours_ci"], card["ours_n"], p_values)],
        "Difference": card["difference"].map(lambda d: "" if pd.isna(d) else f"{d:+.2f}"),
        "Verdict": card["verdict"],
    })


def verdict_counts(card: pd.DataFrame) -> pd.DataFrame:
    """Per published table: how many of its numbers got each verdict."""
    counts = pd.crosstab(card["paper"] + " " + card["table"], card["verdict"])
    counts = counts[[verdict for verdict in VERDICTS if verdict in counts.columns]]
    counts.index.name, counts.columns.name = "Table", None
    return counts.reset_index()


def html_page(title: str, counts: pd.DataFrame, claims: pd.DataFrame, card: pd.DataFrame, figure_png: bytes,
              provenance_line: str) -> str:
    """The scorecard as one self-contained HTML page (the report's scorecard page)."""
    import base64
    import html

    image = base64.b64encode(figure_png).decode()
    style = ("body{font-family:sans-serif;max-width:1400px;margin:auto;padding:1em}table{border-collapse:collapse;"
             "font-size:13px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}")
    return "\n".join([
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{style}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{html.escape(provenance_line)}</p>",
        "<h2>Verdicts per published table</h2>", counts.to_html(index=False),
        "<h2>Claims</h2>", claims.to_html(index=False),
        "<h2>Ours against published</h2>", f"<img style='max-width:100%' src='data:image/png;base64,{image}'>",
        "<h2>Every published number</h2>", formatted_scorecard(card).to_html(index=False),
        "</body></html>", ""])
