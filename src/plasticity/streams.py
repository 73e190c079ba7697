"""Training streams over in-memory tensors: i.i.d. cycles, class-incremental splits, TinyER replay.

Batches are index tensors into the preloaded training set, sliced with seeded permutations;
no DataLoader runs on data that already sits in memory.
"""

from __future__ import annotations

import zlib

import torch

from plasticity.run import RunConfig


def seed_for(seed: int, purpose: str) -> int:
    """An independent seed per purpose, so e.g. data order is the same for every method at a seed."""
    return zlib.crc32(f"{purpose}:{seed}".encode())


def seeded_generator(seed: int, purpose: str) -> torch.Generator:
    return torch.Generator().manual_seed(seed_for(seed, purpose))


def stratified_subset(labels: torch.Tensor, size: int, purpose: str) -> torch.Tensor:
    """A fixed (seed-independent) class-balanced subset: the same data for every run."""
    if size == 0 or size >= len(labels):
        return torch.arange(len(labels))
    generator = seeded_generator(0, purpose)
    classes = labels.unique()
    per_class = size // len(classes)
    picks = []
    for label in classes:
        members = torch.nonzero(labels == label).flatten()
        picks.append(members[torch.randperm(len(members), generator=generator)[:per_class]])
    return torch.sort(torch.cat(picks)).values


def task_classes(cfg: RunConfig, classes: int) -> list[list[int]]:
    """Classes trained in each cycle. Split streams use the fixed class pairs (0,1), (2,3), ...
    in an order shuffled by the run's seed, so every method sees the same order at that seed."""
    if cfg.stream == "iid":
        return [list(range(classes))] * cfg.cycles
    per_task = classes // cfg.tasks
    groups = [list(range(t * per_task, (t + 1) * per_task)) for t in range(cfg.tasks)]
    order = torch.randperm(cfg.tasks, generator=seeded_generator(cfg.seed, "task-order")).tolist()
    return [groups[t] for t in order]


class ReplayBuffer:
    """TinyER: class-balanced, at most `per_class` examples per class and `cap` in total."""

    def __init__(self, per_class: int, cap: int, generator: torch.Generator):
        self.per_class = per_class
        self.cap = cap
        self.generator = generator
        self.members: dict[int, torch.Tensor] = {}

    def __len__(self) -> int:
        return sum(len(m) for m in self.members.values())

    def indices(self) -> torch.Tensor:
        return torch.cat(list(self.members.values())) if self.members else torch.empty(0, dtype=torch.long)

    def add_classes(self, labels: torch.Tensor, candidates: torch.Tensor, new_classes: list[int]) -> None:
        """Admit new classes from `candidates` (indices into `labels`), evicting at random to stay balanced."""
        quota = min(self.per_class, self.cap // (len(self.members) + len(new_classes)))
        for label in new_classes:
            self.members[label] = candidates[labels[candidates] == label]
        for label, members in self.members.items():
            keep = torch.randperm(len(members), generator=self.generator)[:quota]
            self.members[label] = members[keep]

    def sample(self, n: int) -> torch.Tensor:
        pool = self.indices()
        return pool[torch.randperm(len(pool), generator=self.generator)[:n]]


class Stream:
    """The task sequence of one run and the mini-batches of each epoch."""

    def __init__(self, cfg: RunConfig, train_y: torch.Tensor, classes: int):
        self.cfg = cfg
        self.train_y = train_y
        self.tasks = task_classes(cfg, classes)
        self.generator = seeded_generator(cfg.seed, "batches")
        replay = cfg.stream == "split" and cfg.replay.enabled
        self.buffer = ReplayBuffer(cfg.replay.per_class, cfg.replay.cap, self.generator) if replay else None

    def task_indices(self, cycle: int) -> torch.Tensor:
        wanted = torch.tensor(self.tasks[cycle])
        return torch.nonzero(torch.isin(self.train_y, wanted)).flatten()

    def seen_classes(self, cycle: int) -> list[int]:
        return sorted({c for task in self.tasks[: cycle + 1] for c in task})

    def epoch_batches(self, cycle: int) -> list[torch.Tensor]:
        """Index batches of one epoch over the cycle's task; half replay once the buffer holds data."""
        current = self.task_indices(cycle)
        current = current[torch.randperm(len(current), generator=self.generator)]
        batch = self.cfg.batch_size
        replaying = self.buffer is not None and len(self.buffer) > 0
        if replaying:
            replay_size = round(batch * self.cfg.replay.fraction)
            chunks = current.split(batch - replay_size)
            return [torch.cat([chunk, self.buffer.sample(replay_size)]) for chunk in chunks]
        return list(current.split(batch))

    def end_task(self, cycle: int) -> None:
        """New classes enter the replay buffer at the end of their task."""
        if self.buffer is not None:
            self.buffer.add_classes(self.train_y, self.task_indices(cycle), self.tasks[cycle])
