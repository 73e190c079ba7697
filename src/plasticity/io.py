"""Atomic file writes (a reader, or an interrupted Snakemake job, never sees a half-written output), job logs and
the environment of job processes."""

from __future__ import annotations

import csv
import json
import math
import os
import re
import time
import traceback
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import psutil

if TYPE_CHECKING:
    import pandas as pd


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling of `path`; move it onto `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_csv(df: pd.DataFrame, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)


def atomic_write_rows(rows: list[dict], path: str | Path, columns: list[str] | None = None) -> None:
    """Rows as CSV, the way pandas.DataFrame(rows, columns=columns).to_csv(index=False) writes them (None and NaN
    empty; without `columns` every key in first-seen order), without importing pandas: training jobs write
    their outputs with this and save the 0.2 s that import takes."""
    if columns is None:
        columns = list(dict.fromkeys(key for row in rows for key in row))
    with atomic_path(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if _missing(value := row.get(column)) else value for column in columns])


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def atomic_write_text(text: str, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


# The last line of every run's log: the run's cost, measured by the job itself. (Snakemake's `benchmark:`
# measures it from outside, but samples the job's memory twice a second, which cost its main process
# about a quarter of a core while two short jobs ran.) A job of several runs (seeds_per_job) charges its
# process start to its first run, and each later run the time since the run before it ended.
JOB_TIME = re.compile(r"^\[job\] ([\d.]+) s wall since the process started(?: or its previous run ended)?, "
                      r"([\d.]+) s CPU$", re.MULTILINE)
_previous_run_end: tuple[float, float] | None = None  # (wall, CPU) clock when this process's last run ended


# glibc's heap, left to itself, hands the pages of the feature maps a training step frees back to the system and
# faults them in again the next step: a quick ConvNet Grow run took 19.6 s with 681,000 page faults, 17.7 s with 98,000
# with these, a quick SWR CNN run 12.8 against 8.8 s (benchmarks/allocator.py, 2026-12-03). They change where memory
# comes from, never a number computed.
MALLOC_TUNABLES = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456"


def job_glibc_tunables(user_tunables: str | None) -> str:
    """GLIBC_TUNABLES for job processes (read when a process starts): ours, then the user's, which win (the later
    entry of a tunable counts). Other C libraries ignore the variable. A nested Snakemake (a cluster job) inherits
    the result and leaves it as it is."""
    if user_tunables and user_tunables.startswith(MALLOC_TUNABLES):
        return user_tunables
    return ":".join(filter(None, [MALLOC_TUNABLES, user_tunables]))


@contextmanager
def job_log(path: str | Path) -> Iterator[None]:
    """Send stdout, stderr and the traceback of a failure to a run's log file (not only to the cluster's),
    and end it with the run's wall and CPU time (`JOB_TIME`)."""
    global _previous_run_end
    wall_start, cpu_start = _previous_run_end or (psutil.Process().create_time(), 0.0)
    with open(path, "w") as log, redirect_stdout(log), redirect_stderr(log):
        try:
            yield
        except BaseException:
            traceback.print_exc()
            raise
        finally:
            _previous_run_end = (time.time(), time.process_time())
            print(f"[job] {_previous_run_end[0] - wall_start:.2f} s wall since the process started or its previous "
                  f"run ended, {_previous_run_end[1] - cpu_start:.2f} s CPU")


def job_time(log_text: str) -> tuple[float, float] | None:
    """(wall, CPU) seconds from a job log's last JOB_TIME line; None for a job that never finished."""
    matches = JOB_TIME.findall(log_text)
    return tuple(map(float, matches[-1])) if matches else None


class RowStore:
    """A run's tidy rows by table name. With `persist`, the rows added since the last call are appended to
    <stem>.<table>.jsonl beside a checkpoint, which then stores the row counts only: a run of hundreds of
    tasks keeps its checkpoints small. `restore` reads them back, cut to the counts of the checkpoint."""

    def __init__(self):
        self.rows: dict[str, list[dict]] = {}
        self.persisted: dict[str, int] = {}

    def append(self, table: str, row: dict) -> None:
        self.rows.setdefault(table, []).append(row)

    @staticmethod
    def path(stem: Path, table: str) -> Path:
        return stem.with_name(f"{stem.name}.{table}.jsonl")

    def persist(self, stem: Path) -> dict[str, int]:
        stem.parent.mkdir(parents=True, exist_ok=True)
        for table, rows in self.rows.items():
            new = rows[self.persisted.get(table, 0):]
            if new:
                with self.path(stem, table).open("a", encoding="utf-8") as handle:
                    handle.writelines(json.dumps(row) + "\n" for row in new)
                    handle.flush()
                    os.fsync(handle.fileno())
            self.persisted[table] = len(rows)
        return dict(self.persisted)

    def restore(self, stem: Path, counts: dict[str, int]) -> None:
        """The rows of the checkpoint's counts; lines written after it (a run killed before its next
        checkpoint) are dropped from the files too."""
        self.rows, self.persisted = {}, {}
        for table, count in counts.items():
            path = self.path(stem, table)
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)[:count] if path.exists() else []
            if len(lines) < count:
                raise ValueError(f"{path} holds {len(lines)} rows, its checkpoint {count}")
            atomic_write_text("".join(lines), path)
            self.rows[table] = [json.loads(line) for line in lines]
            self.persisted[table] = count

    @staticmethod
    def clear(stem: Path) -> None:
        """Remove every row file of `stem` (a fresh start must not append to an abandoned run's rows)."""
        for path in stem.parent.glob(f"{stem.name}.*.jsonl"):
            path.unlink()
