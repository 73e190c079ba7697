"""The hook protocol and what it makes possible: optimizer-state surgery, unit splits, toy hooks that fire edits
every N steps; connection masks; per-task stream transforms; an epoch metric. The interventions built on these
are tested in test_interventions.py."""

from types import SimpleNamespace

import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from plasticity import optim
from plasticity.hooks import Edit, Hook, build_hooks
from plasticity.masks import connection_targets
from plasticity.models import build_model
from plasticity.run import RunConfig
from plasticity.streams import Stream
from plasticity.surgery import (conv_to_linear_slices, copy_state, masked_weight_gradients, read_state,
                                split_units, unit_slices, zero_state)
from plasticity.train import CHECKPOINT, Tensors, Trainer, init_model, train_run
from runs import batch, one_step, run_config, trainer_for


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_newborn_gets_its_donors_optimizer_state(optimizer, synthetic_dataset):
    trainer = trainer_for(run_config(optimizer=optimizer, momentum=0.9), synthetic_dataset, [])
    for _ in range(3):
        one_step(trainer, hooks=False)
    slices = unit_slices(trainer.model, "fc2")
    copy_state(trainer.optimizer, slices, torch.tensor([5]), torch.tensor([9]))
    donor, newborn = read_state(trainer.optimizer, slices, [5]), read_state(trainer.optimizer, slices, [9])
    keys = {"sgd": {"momentum_buffer"}, "adam": {"exp_avg", "exp_avg_sq"}}[optimizer]
    assert len(donor) == 3 and all(set(piece) == keys for piece in donor)  # weight rows, bias, consumer columns
    assert all(torch.equal(d[key], n[key]) for d, n in zip(donor, newborn) for key in keys)
    assert not torch.equal(donor[0][next(iter(keys))], read_state(trainer.optimizer, slices, [4])[0][next(iter(keys))])
    zero_state(trainer.optimizer, slices, [9])
    assert all(not n[key].any() for n in read_state(trainer.optimizer, slices, [9]) for key in keys)


@pytest.mark.parametrize("model", ["mlp", "convnet"])
def test_splitting_a_unit_leaves_the_outputs_unchanged(model):
    torch.manual_seed(0)
    net = build_model(model, (1, 28, 28), (16, 16, 8) if model == "convnet" else (16, 16), 10)
    net.hidden["fc2"].mask[7] = 0.0  # the newborn-to-be is inactive
    net.hidden["fc1"].mask[[1, 2, 9]] = 0.0
    x = torch.randn(32, 1, 28, 28)
    before = net(x)
    split_units(net, "fc2", donors=torch.tensor([3]), newborns=torch.tensor([7]))
    net.hidden["fc2"].mask[7] = 1.0
    assert torch.allclose(net(x), before, atol=1e-6)
    split_units(net, "fc1", donors=torch.tensor([0, 0, 4]), newborns=torch.tensor([1, 2, 9]))  # 0 has two newborns
    net.hidden["fc1"].mask[[1, 2, 9]] = 1.0
    assert torch.allclose(net(x), before, atol=1e-6)
    consumer = net.hidden["fc2"].linear.weight
    assert torch.allclose(consumer[:, 0], consumer[:, 2]) and torch.allclose(consumer[:, 4], consumer[:, 9])
    split_units(net, "fc1", torch.tensor([5]), torch.tensor([6]), noise=0.1, generator=torch.Generator().manual_seed(0))
    assert not torch.equal(net.hidden["fc1"].linear.weight[5], net.hidden["fc1"].linear.weight[6])


def test_conv_channel_columns_in_the_linear_layer_after_a_flatten():
    torch.manual_seed(0)
    conv, linear = nn.Conv2d(1, 3, 3, padding=1), nn.Linear(3 * 4 * 4, 5)
    x = torch.randn(2, 1, 4, 4)
    slices = conv_to_linear_slices(conv, linear)
    with torch.no_grad():
        silenced = conv(x)
        silenced[:, 1] = 0.0  # channel 1's output switched off...
        expected = linear(silenced.flatten(1))
        columns = slices[1]
        columns.put(linear.weight, torch.tensor([1]), torch.zeros(5, 16))  # ...equals its columns zeroed
        assert torch.allclose(linear(conv(x).flatten(1)), expected, atol=1e-6)
    assert columns.positions(torch.tensor([1])).tolist() == list(range(16, 32))


@pytest.mark.parametrize("layer", ["fc1", "trunk.0"])
def test_a_connection_mask_keeps_masked_weights_at_zero_without_updates_yet_shows_their_gradient(layer, synthetic_dataset):
    cfg = run_config(model="convnet", hidden=(16, 16, 8), momentum=0.9, weight_decay=0.01)
    trainer = trainer_for(cfg, synthetic_dataset, [])
    weight = trainer.model.connection_layers()[layer].weight
    mask = (torch.rand(weight.shape, generator=torch.Generator().manual_seed(0)) < 0.5).float()
    trainer.model.set_connection_mask(layer, mask)
    trainer.train_epoch(0)
    assert torch.all(weight.detach()[mask == 0] == 0) and weight.detach()[mask == 1].abs().sum() > 0
    x, y = batch(trainer)
    trainer.optimizer.zero_grad()
    F.cross_entropy(trainer.model(x), y).backward()
    assert torch.all(weight.grad[mask == 0] == 0)  # masked weights receive nothing
    dense = masked_weight_gradients(trainer.model, x, y)[layer]
    assert dense.shape == weight.shape and dense[mask == 0].abs().sum() > 0  # but their gradient is readable
    assert torch.allclose(dense[mask == 1], weight.grad[mask == 1], atol=1e-6)
    assert connection_targets({layer: weight.numel()}, 0.1)[layer] == round(0.1 * weight.numel())


class SetConnectionMask(Hook):
    def setup(self, trainer) -> None:
        weight = trainer.model.hidden["fc1"].linear.weight
        trainer.model.set_connection_mask("fc1", torch.arange(weight.numel()).view_as(weight) % 3 != 0)


def test_connection_masks_survive_rewinds_checkpoints_and_the_final_state(synthetic_dataset, tmp_path):
    cfg = run_config(cycles=3)
    trainer = trainer_for(cfg, synthetic_dataset, [SetConnectionMask()])
    trainer.run(tmp_path / CHECKPOINT)
    mask = trainer.model.connection_masks()["fc1"]
    final = trainer.model.hidden["fc1"].linear.weight.detach().clone()
    assert torch.all(final[mask == 0] == 0)
    trainer.rewind("all")
    assert torch.equal(trainer.model.connection_masks()["fc1"], mask)
    rewound = trainer.model.hidden["fc1"].linear.weight.detach()
    assert torch.all(rewound[mask == 0] == 0) and torch.equal(rewound[mask == 1],
                                                              trainer.init_state["hidden.fc1.linear.weight"][mask == 1])
    assert "hidden.fc1.weight_mask" in trainer.model.mask_names()
    resumed = trainer_for(cfg, synthetic_dataset, [SetConnectionMask()])
    assert resumed.resume(tmp_path / CHECKPOINT) and torch.equal(resumed.model.connection_masks()["fc1"], mask)
    assert torch.equal(resumed.model.hidden["fc1"].linear.weight, final)
    fresh = build_model("mlp", (1, 28, 28), (32, 32), 10)
    fresh.set_masks(trainer.model.masks())
    assert torch.equal(fresh.connection_masks()["fc1"], mask)


class EditEveryNSteps(Hook):
    """Switch one more unit of fc1 off every `n` optimizer steps."""

    def __init__(self, n: int):
        self.n = n

    def after_step(self, trainer) -> None:
        if trainer.step % self.n == 0:
            mask = trainer.model.unit_masks()["fc1"]
            mask[trainer.step // self.n] = 0.0
            trainer.apply_edit(Edit("prune", trainer.step, {"fc1": mask}))


def test_an_edit_fired_every_n_steps_is_recorded_and_applied(synthetic_dataset):
    trainer = trainer_for(run_config(batch_size=100), synthetic_dataset, [EditEveryNSteps(4)])
    trainer.run()
    events = pd.DataFrame(trainer.tables.rows["events"])
    steps = trainer.step
    assert steps == 2 * 10 and list(events["event"]) == list(range(4, steps + 1, 4))
    assert (events["n_edited"] == 1).all() and trainer.model.hidden["fc1"].mask[1:6].sum() == 0


def test_permuted_stream_moves_pixels_by_a_fixed_permutation_per_task(synthetic_dataset):
    cfg = run_config(stream="permuted", cycles=3)
    data = Tensors.load(cfg, synthetic_dataset, torch.device("cpu"))
    stream = Stream(cfg, data.train_y, data.classes, 28 * 28)
    x, y = data.train_x[:5], data.train_y[:5]
    permuted = [stream.transform(task, x, y)[0] for task in range(3)]
    assert all(torch.equal(stream.transform(t, x, y)[1], y) for t in range(3))
    assert not torch.equal(permuted[0], permuted[1])
    for task in range(3):  # the same pixels, moved: a permutation of each image
        assert torch.equal(permuted[task].flatten(1).sort(dim=1).values, x.flatten(1).sort(dim=1).values)
    assert torch.equal(Stream(cfg, data.train_y, data.classes, 28 * 28).transform(1, x, y)[0], permuted[1])


def test_random_label_stream_draws_fresh_labels_per_task_for_the_training_examples(synthetic_dataset):
    cfg = run_config(stream="random_label", cycles=3)
    data = Tensors.load(cfg, synthetic_dataset, torch.device("cpu"))
    stream = Stream(cfg, data.train_y, data.classes)
    indices = torch.arange(200)
    labels = [stream.transform(task, data.train_x[indices], data.train_y[indices], indices)[1] for task in range(3)]
    assert not torch.equal(labels[0], labels[1]) and not torch.equal(labels[0], data.train_y[indices])
    assert torch.equal(stream.transform(0, data.train_x[:10], data.train_y[:10], indices[:10])[1], labels[0][:10])
    assert torch.equal(stream.transform(0, data.train_x[:10], data.train_y[:10])[1], data.train_y[:10])  # evaluation


def test_online_accuracy_is_the_accuracy_of_each_batch_before_its_update(synthetic_dataset, tmp_path):
    cfg = run_config(lr=0.0, epoch_metrics=["online_acc"])  # no updates: every batch meets the initial model
    train_run(cfg, synthetic_dataset, tmp_path)
    epochs = pd.read_csv(tmp_path / "epochs.csv")
    data = Tensors.load(cfg, synthetic_dataset, torch.device("cpu"))
    with torch.no_grad():
        expected = (init_model(cfg, data)(data.train_x).argmax(dim=1) == data.train_y).float().mean().item()
    assert list(epochs.columns)[-1] == "online_acc" and epochs["online_acc"].tolist() == pytest.approx([expected] * 2)


def test_a_parameter_groups_lr_scale_survives_the_schedule(synthetic_dataset):
    cfg = run_config(lr_schedule="constant")
    trainer = trainer_for(cfg, synthetic_dataset, [])
    head = list(trainer.model.head.parameters())
    others = [p for p in trainer.model.parameters() if all(p is not q for q in head)]
    trainer.optimizer = optim.SGD([{"params": others}, {"params": head, "lr_scale": 0.5}], lr=cfg.lr)
    trainer.train_epoch(0)
    assert [group["lr"] for group in trainer.optimizer.param_groups] == [0.05, 0.025]


def test_hooks_are_built_in_the_loops_order():
    cfg = run_config(method="grow", c=50, regularizer={"kind": "swr", "strength": 0.1, "head_strength": 0.1},
                     probe={"enabled": True}, epoch_metrics=["online_acc"], record_norms=True)
    names = [type(hook).__name__ for hook in build_hooks(cfg, "cycle")]
    assert names == ["Grow", "SoftWeightRescaling", "NewbornProbe", "OnlineAccuracy", "NormRecorder"]
    assert [type(hook).__name__ for hook in build_hooks(cfg, "ticket")] == ["OnlineAccuracy"]


def test_checkpoints_hold_row_counts_not_rows(synthetic_dataset, tmp_path):
    cfg = run_config(cycles=4, probe={"enabled": True})
    trainer = trainer_for(cfg, synthetic_dataset, build_hooks(cfg, "cycle"))
    trainer.run(tmp_path / CHECKPOINT)
    state = torch.load(tmp_path / CHECKPOINT, weights_only=False)
    assert state["rows"] == {"epochs": 4}
    assert len((tmp_path / f"{CHECKPOINT}.epochs.jsonl").read_text().splitlines()) == 4
