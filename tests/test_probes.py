"""Newborn diagnostics: per-unit signals and cohort parities against values computed by hand."""

import math

import torch
from torch import nn

from plasticity.models import MaskedNet
from plasticity.probes import EPS, cohort_row, unit_signals


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def tiny_network() -> MaskedNet:
    """2 inputs -> 3 masked units -> 2 classes, with hand-set weights."""
    model = MaskedNet(nn.Identity(), 2, (3,), 2)
    with torch.no_grad():
        model.hidden["fc1"].linear.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
        model.hidden["fc1"].linear.bias.copy_(torch.tensor([0.0, 0.0, -0.5]))
        model.head.weight.copy_(torch.tensor([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0]]))
        model.head.bias.zero_()
    return model


def test_unit_signals_and_parity_match_a_hand_computation():
    x = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    y = torch.tensor([0, 1])
    act, grad = unit_signals(tiny_network(), x, y, tau=0.05)["fc1"]
    # z = [1, 0, 0.5] and [0, 2, 1.5]: units 0 and 1 fire on one sample each, unit 2 on both.
    assert act.tolist() == [0.5, 0.5, 1.0]
    # Sample 1: logits [2, 0], label 0, dL/dlogit0 = -(1 - sigmoid(2)) / 2 (mean over 2 samples).
    # Sample 2: logits [3, 2], label 1, dL/dlogit1 = -(1 - sigmoid(-1)) / 2. relu'(0) = 0.
    e1, e2 = 1 - sigmoid(2), 1 - sigmoid(-1)
    expected = [e1 / 4, e2 / 4, (e1 + e2) / 2]
    assert torch.allclose(grad, torch.tensor(expected), atol=1e-7)

    newborn = torch.tensor([False, False, True])
    row = cohort_row({"fc1": (act, grad)}, "fc1", newborn, ~newborn)
    assert row["n_a"] == 1 and row["n_b"] == 2
    assert math.isclose(row["act_parity"], 1.0 / (0.5 + EPS))
    grad_parity = ((e1 + e2) / 2) / ((e1 / 4 + e2 / 4) / 2 + EPS)
    assert math.isclose(row["grad_parity"], grad_parity, rel_tol=1e-6)
    assert math.isclose(row["log_grad_parity"], math.log(grad_parity), rel_tol=1e-6)


def test_a_silent_cohort_has_a_finite_log_parity():
    act = torch.tensor([0.0, 0.5])
    grad = torch.tensor([0.0, 0.1])
    row = cohort_row({"l": (act, grad)}, "l", torch.tensor([True, False]), torch.tensor([False, True]))
    assert row["act_parity"] == 0 and row["log_act_parity"] == math.log(EPS)


def test_probe_follows_every_birth_and_prune_of_a_run(synthetic_dataset, tmp_path):
    from test_core import run_config
    from plasticity.train import train_run
    import pandas as pd

    for method in ("grow", "prune", "dense"):
        cfg = run_config(method=method, c=30, epochs_per_cycle=2, probe={"enabled": True, "batch_size": 64})
        train_run(cfg, synthetic_dataset, tmp_path / method)
    grow = pd.read_csv(tmp_path / "grow" / "probe.csv")
    births = grow[grow["layer"] == "fc1"]
    assert sorted(births["event"].unique()) == [1, 2, 3, 4]
    assert set(births["cohort_a"]) == {"newborn"} and set(births["cohort_b"]) == {"incumbent"}
    for event, rows in births.groupby("event"):
        snapshots = rows.set_index("snapshot")
        assert rows[rows["snapshot"] == "epoch"]["age"].tolist() == [1, 2]
        assert snapshots.loc["post", "age"] == 0 and snapshots.loc["post", "epoch"] == 2 * (event - 1) + 2
        assert snapshots.loc["end", "age"] == 2
    events = pd.read_csv(tmp_path / "grow" / "events.csv")
    grown = events[(events["kind"] == "grow") & (events["layer"] == "fc1")].set_index("event")["n_edited"]
    posts = births[births["snapshot"] == "post"].set_index("event")["n_a"]
    assert posts.to_dict() == grown.to_dict()  # the newborn cohort is exactly the units grown

    prune = pd.read_csv(tmp_path / "prune" / "probe.csv")
    assert set(prune["snapshot"]) == {"exit"} and set(prune["cohort_a"]) == {"pruned"}
    assert prune["grad_a"].gt(0).all()  # measured before removal, while the pruned units are active
    assert pd.read_csv(tmp_path / "dense" / "probe.csv").empty
