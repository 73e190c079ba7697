"""Resumable runs: a job killed mid-run continues from its checkpoint and ends exactly where an
uninterrupted run ends; a checkpoint of another config, or a damaged one, is never used."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from plasticity.run import RunConfig
from plasticity.train import CHECKPOINT, retrain_ticket, train_run
from runs import make_run

SRC = Path(__file__).resolve().parents[1] / "src"

# Runs `train_run` (or `retrain_ticket`) in a child process that SIGKILLs itself right after saving the
# checkpoint of epoch `kill_after` ("E", or "PHASE:E" for the epoch of one phase), or in the middle of writing
# that checkpoint (`kill_mid_write`).
CHILD = """
import json, os, signal, sys
import torch
from plasticity import train
from plasticity.run import RunConfig

cfg = RunConfig.from_dict(json.loads(sys.argv[1]))
kill_phase, _, kill_epoch = sys.argv[2].rpartition(":")
mid_write = sys.argv[3] == "mid-write"
save = train.Trainer.save_checkpoint

def save_then_die(self, path):
    kill = self.epoch == int(kill_epoch) and kill_phase in ("", self.phase)
    if kill and mid_write:
        real_save = torch.save
        def partial_save(obj, f):
            real_save(obj, f)
            os.truncate(f, os.path.getsize(f) // 2)
            os.kill(os.getpid(), signal.SIGKILL)
        torch.save = partial_save
    save(self, path)
    if kill:
        os.kill(os.getpid(), signal.SIGKILL)

train.Trainer.save_checkpoint = save_then_die
torch.set_num_threads(1)
if sys.argv[4] == "train":
    train.train_run(cfg, sys.argv[5], sys.argv[6])
else:
    train.retrain_ticket(cfg, sys.argv[5], sys.argv[7], sys.argv[6])
"""


def run_config(**overrides) -> RunConfig:
    values = dict(setting="test", method="grow", c=30, seed=3, dataset="synthetic", hidden=(64, 64),
                  stream="split", tasks=5, cycles=5, epochs_per_cycle=2, lr=0.05,
                  probe={"enabled": True, "batch_size": 64, "tau": 0.05})
    values.update(overrides)
    return make_run(**values)


def killed_child(cfg: RunConfig, kill_after: int | str, how: str, job: str, dataset: Path, out: Path,
                 source: Path | None = None) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    args = [sys.executable, "-c", CHILD, json.dumps(cfg.to_dict()), str(kill_after), how, job, str(dataset),
            str(out), str(source)]
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == -9, result.stderr  # it died by SIGKILL, as planned


def assert_same_outputs(a: Path, b: Path, names: list[str]) -> None:
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.mark.parametrize("method", ["grow", "prune"])
def test_a_killed_run_resumes_to_the_uninterrupted_result(method, synthetic_dataset, tmp_path, capfd):
    cfg = run_config(method=method)
    train_run(cfg, synthetic_dataset, tmp_path / "whole")
    # Killed after epoch 5 of 10: mid-cycle 3, after two edits, with replay and probe rows underway.
    killed_child(cfg, 5, "after-save", "train", synthetic_dataset, tmp_path / "killed")
    assert (tmp_path / "killed" / CHECKPOINT).exists() and not (tmp_path / "killed" / "epochs.csv").exists()
    capfd.readouterr()
    train_run(cfg, synthetic_dataset, tmp_path / "killed")
    assert "after epoch 5/10" in capfd.readouterr().err
    assert_same_outputs(tmp_path / "whole", tmp_path / "killed", ["epochs.csv", "events.csv", "probe.csv"])
    whole = torch.load(tmp_path / "whole" / "state.pt", weights_only=True)
    resumed = torch.load(tmp_path / "killed" / "state.pt", weights_only=True)
    for part in ("init_state", "final_state"):
        assert all(torch.equal(whole[part][k], resumed[part][k]) for k in whole[part]), part
    units = whole["final_masks"]["units"]
    assert all(torch.equal(units[k], resumed["final_masks"]["units"][k]) for k in units)
    assert not (tmp_path / "killed" / CHECKPOINT).exists()  # removed once complete (keep_checkpoint=False)


@pytest.mark.parametrize("kill_after", ["growth:5", "cycle:1"])
def test_a_killed_growth_run_resumes_to_the_uninterrupted_result(kill_after, synthetic_dataset, tmp_path):
    # PathGrow at c = 100: the stopping rule's history of stages lives in the growth phase's checkpoint
    cfg = make_run(setting="test", method="pathgrow", c=100, seed=2, dataset="synthetic", hidden=(32, 32), cycles=1,
                   epochs_per_cycle=2, lr=0.2, val_fraction=0.2, epoch_metrics=("train_cost",),
                   sparse={"stage_epochs": [1], "growth_epochs": 12})
    train_run(cfg, synthetic_dataset, tmp_path / "whole")
    killed_child(cfg, kill_after, "after-save", "train", synthetic_dataset, tmp_path / "killed")
    train_run(cfg, synthetic_dataset, tmp_path / "killed")
    assert_same_outputs(tmp_path / "whole", tmp_path / "killed", ["epochs.csv", "events.csv"])
    whole = torch.load(tmp_path / "whole" / "state.pt", weights_only=True)
    resumed = torch.load(tmp_path / "killed" / "state.pt", weights_only=True)
    assert all(torch.equal(whole["final_state"][k], resumed["final_state"][k]) for k in whole["final_state"])
    connections = whole["final_masks"]["connections"]
    assert all(torch.equal(connections[k], resumed["final_masks"]["connections"][k]) for k in connections)


def test_a_killed_ticket_resumes_to_the_uninterrupted_result(synthetic_dataset, tmp_path):
    cfg = run_config(probe={"enabled": False})
    train_run(cfg, synthetic_dataset, tmp_path / "source", keep_checkpoint=True)
    assert (tmp_path / "source" / CHECKPOINT).exists()  # kept on request
    source = tmp_path / "source" / "state.pt"
    retrain_ticket(cfg, synthetic_dataset, source, tmp_path / "whole")
    killed_child(cfg, 3, "after-save", "ticket", synthetic_dataset, tmp_path / "killed", source)
    retrain_ticket(cfg, synthetic_dataset, source, tmp_path / "killed")
    assert_same_outputs(tmp_path / "whole", tmp_path / "killed", ["epochs.csv"])


def test_a_kill_during_the_checkpoint_write_keeps_the_previous_checkpoint(synthetic_dataset, tmp_path, capfd):
    cfg = run_config()
    train_run(cfg, synthetic_dataset, tmp_path / "whole")
    killed_child(cfg, 4, "mid-write", "train", synthetic_dataset, tmp_path / "killed")
    capfd.readouterr()
    train_run(cfg, synthetic_dataset, tmp_path / "killed")
    assert "after epoch 3/10" in capfd.readouterr().err  # the half-written epoch-4 file was never used
    assert_same_outputs(tmp_path / "whole", tmp_path / "killed", ["epochs.csv", "events.csv", "probe.csv"])


def test_a_checkpoint_of_another_config_or_a_damaged_one_restarts_the_run(synthetic_dataset, tmp_path, capfd):
    cfg = run_config()
    train_run(run_config(lr=0.01), synthetic_dataset, tmp_path / "other", keep_checkpoint=True)
    train_run(cfg, synthetic_dataset, tmp_path / "whole")
    capfd.readouterr()
    train_run(cfg, synthetic_dataset, tmp_path / "other")
    assert "belongs to another run config; starting from scratch" in capfd.readouterr().err
    assert_same_outputs(tmp_path / "whole", tmp_path / "other", ["epochs.csv", "events.csv", "probe.csv"])

    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / CHECKPOINT).write_bytes(b"not a checkpoint")
    train_run(cfg, synthetic_dataset, damaged)
    assert "is unreadable" in capfd.readouterr().err
    assert_same_outputs(tmp_path / "whole", damaged, ["epochs.csv", "events.csv", "probe.csv"])
