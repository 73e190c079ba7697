"""A job's log: its output, the traceback of a failure (where the user looks first, also under SLURM) and its cost."""

import time

import pytest

from plasticity.io import job_log, job_time


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
        busy_until = time.process_time() + 0.3
        while time.process_time() < busy_until:
            pass
        time.sleep(0.3)
    wall, cpu = job_time(log.read_text())
    assert cpu >= 0.3  # the busy loop, plus this process's earlier work
    assert wall >= cpu - 0.05  # one thread: wall time since the process started covers its CPU time
    assert job_time("epoch 1/2 acc 0.5\n") is None  # a job killed before the end has no cost line
