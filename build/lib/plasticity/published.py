"""The publications' tables in published/ (transcribed, with their README of sources and errata).

Result tables (sp_table*, swr_table*, swr_text_claims) are compared with, never read by a run, a default or a
selection: only plasticity.scorecard reads them. The protocol tables (protocol_*) are protocol: the SWR
study's published lambda picks run with `lambda_selection: published`.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

PUBLISHED_DIR = Path(__file__).resolve().parents[2] / "published"

# Our regulariser kinds -> the method names of the SWR hyperparameter tables. SWR + re-init has no table of
# its own (App. E: "the rest of the configuration was kept unchanged"), so it takes SWR's lambda.
SWR_METHOD_NAMES = {"l2": "L2", "l2_init": "L2 Init", "shrink_perturb": "S&P", "swr": "SWR", "swr_reinit": "SWR"}
SWR_PICK_TABLES = {"warm_start": "protocol_swr_table02_warmstart_hparams.csv",
                   "chunks": "protocol_swr_table03_continual_hparams.csv",
                   "single": "protocol_swr_table04_generalization_hparams.csv"}


@cache
def read_rows(name: str) -> tuple[dict, ...]:
    """The rows of published/<name> as dicts of strings."""
    path = PUBLISHED_DIR / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: published/ must hold the transcribed tables (see its README)")
    with path.open(newline="", encoding="utf-8") as handle:
        return tuple(csv.DictReader(handle))


def parse_lambdas(text: str) -> dict[str, float]:
    """'λ = 1e-3' -> one lambda for the feature extractor and the classifier alike; 'λf = 1e-4, λc = 1e-1' ->
    {strength: 1e-4, head_strength: 0.1}."""
    values = dict(re.findall(r"λ([fc]?)\s*=\s*([0-9.eE+-]+)", text))
    if set(values) == {""}:
        return {"strength": float(values[""]), "head_strength": float(values[""])}
    if set(values) == {"f", "c"}:
        return {"strength": float(values["f"]), "head_strength": float(values["c"])}
    raise ValueError(f"cannot read the lambdas of {text!r}")


def swr_published_pick(experiment: str, access: str, dataset: str, model: str, kind: str) -> dict[str, float] | None:
    """The regulariser keys the SWR publication lists for (experiment, dataset, model, kind), None if it lists
    none. experiment: single | warm_start | chunks (access full | limited); dataset and model as the tables
    print them (MNIST, CIFAR-10, ...; MLP, CNN, CNN-BN, VGG-16)."""
    for row in read_rows(SWR_PICK_TABLES[experiment]):
        if (row["setting"], row["model"], row["method"]) == (dataset, model, SWR_METHOD_NAMES[kind]):
            text = row[f"{access}_access"] if experiment == "chunks" else row["hyperparameter"]
            keys = parse_lambdas(text)
            return keys if kind.startswith("swr") else {"strength": keys["strength"]}
    return None
