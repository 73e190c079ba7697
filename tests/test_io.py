"""A failing job's traceback lands in its own log, where the user looks first (also under SLURM)."""

import pytest

from plasticity.io import job_log


def test_job_log_captures_output_and_the_traceback_of_a_failure(tmp_path):
    log = tmp_path / "job.log"
    with pytest.raises(ZeroDivisionError):
        with job_log(log):
            print("epoch 1/2")
            1 / 0
    text = log.read_text()
    assert "epoch 1/2" in text and "Traceback" in text and "ZeroDivisionError" in text
