"""plasticity.optim against torch.optim: the same updates bit for bit, the same state layout, and a checkpoint
round trip that continues exactly where it stopped."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from plasticity import optim
from plasticity.surgery import state_of

CASES = [
    (optim.SGD, torch.optim.SGD, dict(lr=0.1)),
    (optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, weight_decay=1e-4)),
    (optim.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=1e-4, nesterov=True)),
    (optim.Adam, torch.optim.Adam, dict(lr=1e-3)),
    (optim.Adam, torch.optim.Adam, dict(lr=1e-2, weight_decay=1e-3)),
]


def model_and_data(seed: int):
    generator = torch.Generator().manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=generator))
    return model, torch.randn(40, 6, generator=generator), torch.randint(0, 3, (40,), generator=generator)


def train(model, optimizer, x, y, steps: int, start: int = 0) -> None:
    for step in range(start, start + steps):
        batch = slice(step % 4 * 10, step % 4 * 10 + 10)
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
        optimizer.step()


@pytest.mark.parametrize("ours, theirs, hyper", CASES)
def test_updates_and_state_match_torch_optim_bit_for_bit(ours, theirs, hyper):
    a, x, y = model_and_data(0)
    b, _, _ = model_and_data(0)
    mine, reference = ours(a.parameters(), **hyper), theirs(b.parameters(), **hyper)
    train(a, mine, x, y, 25)
    train(b, reference, x, y, 25)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
        mine_state, their_state = state_of(mine, p), state_of(reference, q)
        assert mine_state.keys() == their_state.keys()
        assert all(torch.equal(mine_state[k], their_state[k]) for k in mine_state)


@pytest.mark.parametrize("ours, theirs, hyper", CASES)
def test_a_resumed_optimizer_continues_exactly_and_reads_torch_checkpoints(ours, theirs, hyper):
    straight, x, y = model_and_data(1)
    train(straight, ours(straight.parameters(), **hyper), x, y, 20)
    for saved_by in (ours, theirs):  # checkpoints written before plasticity.optim existed hold torch.optim's dicts
        first, _, _ = model_and_data(1)
        optimizer = saved_by(first.parameters(), **hyper)
        train(first, optimizer, x, y, 10)
        saved = torch.load(_roundtrip(optimizer.state_dict()), weights_only=True)
        resumed, _, _ = model_and_data(1)
        resumed.load_state_dict(first.state_dict())
        continued = ours(resumed.parameters(), **hyper)
        continued.load_state_dict(saved)
        train(resumed, continued, x, y, 10, start=10)
        assert all(torch.equal(p, q) for p, q in zip(resumed.parameters(), straight.parameters()))


def test_parameter_groups_keep_their_own_hyperparameters():
    model, x, y = model_and_data(2)
    first, second = list(model[0].parameters()), list(model[2].parameters())
    optimizer = optim.SGD([{"params": first}, {"params": second, "lr": 0.0}], lr=0.1)
    before = [p.clone() for p in second]
    train(model, optimizer, x, y, 3)
    assert all(torch.equal(p, q) for p, q in zip(second, before))
    assert not torch.equal(first[0], model_and_data(2)[0][0].weight)


def test_a_state_dict_for_other_parameters_is_refused():
    model, _, _ = model_and_data(3)
    saved = optim.SGD(model[0].parameters(), lr=0.1).state_dict()
    with pytest.raises(ValueError, match="different set of parameters"):
        optim.SGD(model.parameters(), lr=0.1).load_state_dict(saved)


def _roundtrip(state: dict):
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return buffer


def test_a_training_run_does_not_import_torch_dynamo(synthetic_dataset, tmp_path):
    # torch.optim's first use imports torch._dynamo, over a second of every job's start-up; nothing else should
    script = (
        "import sys\n"
        "from runs import make_run\n"
        "from plasticity.train import train_run\n"
        "cfg = make_run(setting='test', method='grow', c=50, seed=1, dataset='synthetic', hidden=(16, 16),\n"
        "               cycles=2, epochs_per_cycle=1, optimizer=sys.argv[3])\n"
        "train_run(cfg, sys.argv[1], __import__('pathlib').Path(sys.argv[2]))\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    tests = str(Path(__file__).parent)
    for optimizer in ("sgd", "adam"):
        result = subprocess.run([sys.executable, "-c", script, str(synthetic_dataset), str(tmp_path / optimizer),
                                 optimizer], capture_output=True, text=True, timeout=600,
                                env={**os.environ, "PYTHONPATH": os.pathsep.join([tests, os.environ.get("PYTHONPATH", "")])})
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.strip().splitlines()[-1] == "False", optimizer
