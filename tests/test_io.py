"""A job's log: its output, the traceback of a failure (where the user looks first, also under SLURM) and its cost."""

import time

import pytest

from plasticity.io import MALLOC_TUNABLES, job_glibc_tunables, job_log, job_time


def test_job_log_captures_output_and_the_traceback_of_a_failure(tmp_path):
    log = tmp_path / "job.log"
    with pytest.raises(ZeroDivisionError):
        with job_log(log):
            print("epoch 1/2")
            1 / 0
    text = log.read_text()
    assert "epoch 1/2" in text and "Traceback" in text and "ZeroDivisionError" in text
    assert job_time(text) is not None  # a failed job's cost is logged too


def test_job_log_ends_with_the_job_wall_and_cpu_time(tmp_path):
    log = tmp_path / "job.log"
    with job_log(log):
        busy(0.3)
        time.sleep(0.3)
    wall, cpu = job_time(log.read_text())
    assert cpu >= 0.3  # the busy loop, plus this process's earlier work
    assert wall >= cpu - 0.05  # one thread: its wall time covers its CPU time
    assert job_time("epoch 1/2 acc 0.5\n") is None  # a job killed before the end has no cost line


def busy(seconds: float) -> None:
    until = time.process_time() + seconds
    while time.process_time() < until:
        pass


def test_runs_of_one_job_each_log_their_own_time(tmp_path):
    """A job of several runs (seeds_per_job): each run's cost line counts from the end of the run before it."""
    logs = [tmp_path / "seed1.log", tmp_path / "seed2.log"]
    with job_log(logs[0]):
        busy(0.6)
    with job_log(logs[1]):
        busy(0.2)
    (wall1, cpu1), (wall2, cpu2) = (job_time(log.read_text()) for log in logs)
    assert cpu1 >= 0.6 and 0.2 <= cpu2 < 0.5  # not the process's CPU time so far
    assert wall2 >= cpu2 - 0.05 and wall2 < wall1


def test_job_tunables_let_the_users_own_win_and_are_not_doubled_by_a_nested_snakemake():
    ours = job_glibc_tunables(None)
    assert ours == MALLOC_TUNABLES and "glibc.malloc.trim_threshold=" in ours
    with_user = job_glibc_tunables("glibc.malloc.mmap_threshold=65536")
    assert with_user.split(":")[-1] == "glibc.malloc.mmap_threshold=65536"  # glibc takes the later entry
    assert job_glibc_tunables(with_user) == with_user
