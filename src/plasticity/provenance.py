"""Where a table or figure comes from: commit, package versions, the devices its runs trained on, a config hash.

Every output writes its record beside it (<stem>.provenance.json); Markdown and LaTeX tables end with it as
a line, PDF and PNG figures carry it in their metadata, and `rule provenance` gathers them for the report.
The commit and the versions are read when the output is made, never passed as rule parameters: a new commit
must not rerun the DAG. The config hash is a parameter: it changes exactly when the runs behind an output do.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from plasticity.io import atomic_write_text

REPOSITORY = Path(__file__).resolve().parents[2]
PACKAGES = ("torch", "torchvision", "snakemake", "numpy", "pandas", "scipy", "matplotlib", "seaborn")


def config_hash(value) -> str:
    """A short stable hash of JSON-like data (e.g. the resolved run configs behind an output)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def commit() -> str:
    """The checkout's commit, with '+dirty' for uncommitted changes to tracked files; 'unknown' outside git."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(REPOSITORY), *args], capture_output=True, text=True,
                              check=True).stdout.strip()
    try:
        head = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def versions() -> dict[str, str]:
    found = {}
    for package in PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def record(config: str, devices) -> dict:
    """The provenance of an output made now from runs with config hash `config` trained on `devices`."""
    return {"commit": commit(), "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "packages": versions(), "devices": sorted({str(device) for device in devices}), "config_hash": config}


def line(provenance: dict) -> str:
    packages = ", ".join(f"{name} {version}" for name, version in provenance["packages"].items())
    devices = ", ".join(provenance["devices"]) or "none"
    return (f"Provenance: commit {provenance['commit']}; config {provenance['config_hash']}; devices {devices}; "
            f"{packages}; made {provenance['created']}.")


def sidecar(stem: str | Path) -> Path:
    stem = Path(stem)
    return stem.with_name(stem.name + ".provenance.json")


def write(stem: str | Path, provenance: dict) -> None:
    atomic_write_text(json.dumps(provenance, indent=2) + "\n", sidecar(stem))


def devices(*tables) -> list[str]:
    """The devices named in the *_device columns of runs tables (where their runs and tickets trained)."""
    found = set()
    for table in tables:
        for column in (name for name in table.columns if name.endswith("_device")):
            found.update(str(value) for value in table[column].dropna().unique())
    return sorted(found)


def table(records: dict[str, dict]):
    """One row per output (its stem): commit, config hash, devices, each package's version, when it was made."""
    import pandas as pd

    rows = [{"output": stem, "commit": record["commit"], "config_hash": record["config_hash"],
             "devices": ", ".join(record["devices"]), **record["packages"], "created": record["created"]}
            for stem, record in sorted(records.items())]
    return pd.DataFrame(rows)
