"""Protocol readings (README, Protocol readings): each key changes training exactly as documented."""

import math

import pandas as pd
import pytest
import torch

from plasticity.run import RunConfig
from plasticity.streams import ReplayBuffer, Stream
from plasticity.train import Tensors, learning_rate, restarts_each_cycle, train_run
from runs import make_run


def run_config(**overrides) -> RunConfig:
    values = dict(setting="test", method="prune", c=50, seed=1, dataset="synthetic", hidden=(32, 32),
                  cycles=5, epochs_per_cycle=20, lr=0.01)
    values.update(overrides)
    return make_run(**values)


def cosine(lr: float, position: int, horizon: int) -> float:
    return lr * 0.5 * (1 + math.cos(math.pi * position / horizon))


def test_cosine_runs_over_the_whole_run_by_default_across_rewinds():
    cfg = run_config()
    lrs = [learning_rate(cfg, epoch, restarts_each_cycle(cfg, "cycle")) for epoch in range(100)]
    assert lrs[0] == 0.01 and lrs[50] == pytest.approx(0.005)
    assert lrs[80] == pytest.approx(cosine(0.01, 80, 100))  # the last rewind lands at about 1e-3
    assert all(a > b for a, b in zip(lrs, lrs[1:]))


def test_cosine_over_200_epochs_ends_halfway_down():
    cfg = run_config(lr_horizon_epochs=200)
    assert learning_rate(cfg, 99, False) == pytest.approx(cosine(0.01, 99, 200))
    assert learning_rate(cfg, 99, False) > 0.004


def test_cosine_reaches_zero_at_a_short_horizon_and_stays_there():
    cfg = run_config(lr_horizon_epochs=50)
    assert learning_rate(cfg, 50, False) == pytest.approx(0) and learning_rate(cfg, 80, False) == pytest.approx(0)


@pytest.mark.parametrize(("restart", "method", "phase", "ticket_schedule", "restarts"), [
    ("never", "prune", "cycle", "own", False),
    ("cycle", "grow", "cycle", "own", True),
    ("cycle", "dense", "ticket", "own", True),
    ("rewind", "prune", "cycle", "own", True),
    ("rewind", "grow", "cycle", "own", False),  # Grow never rewinds
    ("rewind", "prune", "ticket", "own", False),  # a ticket trains its own schedule
    ("rewind", "prune", "ticket", "source", True),  # or restarts where its Prune run did
])
def test_which_runs_restart_the_schedule_each_cycle(restart, method, phase, ticket_schedule, restarts):
    cfg = run_config(lr_restart=restart, method=method, ticket_schedule=ticket_schedule)
    assert restarts_each_cycle(cfg, phase) is restarts


def test_restarted_schedule_anneals_within_each_cycle():
    cfg = run_config(lr_restart="cycle")
    assert [learning_rate(cfg, epoch, True) for epoch in (0, 20, 40)] == [0.01] * 3
    assert learning_rate(cfg, 30, True) == pytest.approx(cosine(0.01, 10, 20))


def test_prune_run_logs_the_restarted_lr_and_its_ticket_its_own(synthetic_dataset, tmp_path):
    from plasticity.train import retrain_ticket

    cfg = run_config(lr_restart="rewind", cycles=3, epochs_per_cycle=2, c=30)
    train_run(cfg, synthetic_dataset, tmp_path)
    run_lr = pd.read_csv(tmp_path / "epochs.csv")["lr"].tolist()
    assert run_lr == pytest.approx([0.01, cosine(0.01, 1, 2)] * 3)
    retrain_ticket(cfg, synthetic_dataset, tmp_path / "state.pt", tmp_path / "ticket")
    ticket_lr = pd.read_csv(tmp_path / "ticket" / "epochs.csv")["lr"].tolist()
    assert ticket_lr == pytest.approx([cosine(0.01, epoch, 6) for epoch in range(6)])


def add_five_tasks(buffer: ReplayBuffer, labels: torch.Tensor) -> list[list[int]]:
    """Counts per class after each task of two classes."""
    history = []
    for first in range(0, 10, 2):
        candidates = torch.nonzero((labels == first) | (labels == first + 1)).flatten()
        buffer.add_classes(labels, candidates, [first, first + 1])
        history.append(torch.bincount(labels[buffer.indices()], minlength=10).tolist())
    return history


def test_uncapped_buffer_keeps_fifty_of_every_class():
    labels = torch.arange(10).repeat_interleave(100)
    history = add_five_tasks(ReplayBuffer(50, 0, torch.Generator().manual_seed(0)), labels)
    assert history[-1] == [50] * 10 and history[1] == [50] * 4 + [0] * 6


def test_add_only_buffer_fills_up_and_never_evicts():
    labels = torch.arange(10).repeat_interleave(100)
    buffer = ReplayBuffer(50, 200, torch.Generator().manual_seed(0), policy="add_only")
    history = add_five_tasks(buffer, labels)
    assert history[0] == [50, 50] + [0] * 8
    assert history[1] == history[-1] == [50] * 4 + [0] * 6  # classes 4..9 find no room
    odd_cap = ReplayBuffer(50, 120, torch.Generator().manual_seed(0), policy="add_only")
    assert add_five_tasks(odd_cap, labels)[-1] == [50, 50, 20] + [0] * 7


def test_extra_composition_adds_replay_on_top_of_the_batch(synthetic_dataset):
    cfg = run_config(stream="split", tasks=5, batch_size=64, replay={"composition": "extra"})
    data = Tensors.load(cfg, synthetic_dataset, torch.device("cpu"))
    stream = Stream(cfg, data.train_y, data.classes)
    stream.end_task(0)
    batches = stream.epoch_batches(1)
    current = len(stream.task_indices(1))
    assert len(batches) == math.ceil(current / 64)
    for batch in batches[:-1]:
        labels = data.train_y[batch]
        assert len(batch) == 96
        assert set(labels[:64].tolist()) <= set(stream.tasks[1]) and set(labels[64:].tolist()) <= set(stream.tasks[0])
