"""Training streams over in-memory tensors: i.i.d. cycles, class-incremental splits with TinyER replay, the
data-change streams of the SWR study (warm start, chunks), and streams that transform the data per task
(permuted: a fixed pixel permutation per task; random_label: fresh random labels per task), and class_tasks, whose
tasks train new classes (Continual ImageNet: two classes a task, labelled 0 and 1; 5+1 CIFAR: five classes, then
one, in the dataset's labels). A data change and a task are a cycle boundary.

Batches are index tensors into the preloaded training set, sliced with seeded permutations, then
transformed as the task presents them (`Stream.transform`); no DataLoader runs on data already in memory.
"""

from __future__ import annotations

import math
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


def validation_split(labels: torch.Tensor, fraction: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(training, validation) positions in `labels`: a fixed class-balanced `fraction` is held out, disjoint
    from the rest and the same for every run; fraction 0 holds out nothing."""
    if fraction == 0:
        return torch.arange(len(labels)), torch.arange(0)
    validation = stratified_subset(labels, round(fraction * len(labels)), "validation")
    training = torch.ones(len(labels), dtype=torch.bool)
    training[validation] = False
    return torch.nonzero(training).flatten(), validation


def task_classes(cfg: RunConfig, classes: int) -> list[list[int]]:
    """Classes trained in each cycle. Split streams use the fixed class pairs (0,1), (2,3), ...
    in an order shuffled by the run's seed, so every method sees the same order at that seed.
    class_tasks streams take task t's task_classes[t mod len] classes from a seeded order of all classes, a fresh
    order when fewer are left than the task needs (so no class repeats while unused ones remain).
    Every other stream trains all classes in every cycle."""
    if cfg.stream == "class_tasks":
        generator = seeded_generator(cfg.seed, "task-classes")
        order: list[int] = []
        tasks = []
        for task in range(cfg.cycles):
            count = cfg.task_classes[task % len(cfg.task_classes)]
            if len(order) < count:
                order = torch.randperm(classes, generator=generator).tolist()
            tasks.append(sorted(order[:count]))
            order = order[count:]
        return tasks
    if cfg.stream != "split":
        return [list(range(classes))] * cfg.cycles
    per_task = classes // cfg.tasks
    groups = [list(range(t * per_task, (t + 1) * per_task)) for t in range(cfg.tasks)]
    order = torch.randperm(cfg.tasks, generator=seeded_generator(cfg.seed, "task-order")).tolist()
    return [groups[t] for t in order]


class ReplayBuffer:
    """TinyER: at most `per_class` examples per class and `cap` in total (0: no cap).

    Policy "balanced" gives every class seen the quota min(per_class, cap // classes), evicting at random;
    "add_only" admits a new class with min(per_class, room left) examples and never evicts.
    """

    def __init__(self, per_class: int, cap: int, generator: torch.Generator, policy: str = "balanced"):
        self.per_class = per_class
        self.cap = cap
        self.policy = policy
        self.generator = generator
        self.members: dict[int, torch.Tensor] = {}

    def __len__(self) -> int:
        return sum(len(m) for m in self.members.values())

    def indices(self) -> torch.Tensor:
        return torch.cat(list(self.members.values())) if self.members else torch.empty(0, dtype=torch.long)

    def add_classes(self, labels: torch.Tensor, candidates: torch.Tensor, new_classes: list[int]) -> None:
        """Admit new classes from `candidates` (indices into `labels`) by the buffer's policy."""
        if self.policy == "add_only":
            for label in new_classes:
                room = self.cap - len(self) if self.cap else self.per_class
                members = candidates[labels[candidates] == label]
                keep = torch.randperm(len(members), generator=self.generator)[:max(0, min(self.per_class, room))]
                self.members[label] = members[keep]
            return
        classes = len(self.members) + len(new_classes)
        quota = min(self.per_class, self.cap // classes) if self.cap else self.per_class
        for label in new_classes:
            self.members[label] = candidates[labels[candidates] == label]
        for label, members in self.members.items():
            keep = torch.randperm(len(members), generator=self.generator)[:quota]
            self.members[label] = members[keep]

    def sample(self, n: int) -> torch.Tensor:
        pool = self.indices()
        return pool[torch.randperm(len(pool), generator=self.generator)[:n]]


def cycle_indices(cfg: RunConfig, train_y: torch.Tensor, tasks: list[list[int]]) -> list[torch.Tensor]:
    """Training-set indices of each cycle, sorted. warm_start: a fixed random `warm_fraction` of the data,
    then all of it; chunks: `cycles` fixed random chunks, cycle k trains chunks 1..k (access "full") or
    chunk k alone ("limited"). The random draws come from the run's seed, the same for every method."""
    if cfg.stream == "class_tasks" and cfg.images_per_class:
        generator = seeded_generator(cfg.seed, "class-images")
        per_class = {}
        for label in sorted({c for task in tasks for c in task}):
            members = torch.nonzero(train_y == label).flatten()
            per_class[label] = members[torch.randperm(len(members), generator=generator)[:cfg.images_per_class]]
        return [torch.sort(torch.cat([per_class[label] for label in task])).values for task in tasks]
    if cfg.stream not in ("warm_start", "chunks"):
        return [torch.nonzero(torch.isin(train_y, torch.tensor(task))).flatten() for task in tasks]
    order = torch.randperm(len(train_y), generator=seeded_generator(cfg.seed, "data-changes"))
    if cfg.stream == "warm_start":
        return [torch.sort(order[: round(cfg.warm_fraction * len(order))]).values, torch.arange(len(train_y))]
    chunks = order.tensor_split(cfg.cycles)
    if cfg.access == "limited":
        return [torch.sort(chunk).values for chunk in chunks]
    return [torch.sort(torch.cat(chunks[: k + 1])).values for k in range(cfg.cycles)]


class Stream:
    """The task sequence of one run and the mini-batches of each epoch."""

    def __init__(self, cfg: RunConfig, train_y: torch.Tensor, classes: int, pixels: int = 0):
        self.cfg = cfg
        self.train_y = train_y
        self.classes = classes
        self.pixels = pixels  # per example, for the permuted stream
        self.permutations: dict[int, torch.Tensor] = {}  # drawn per task when first needed, from the run's seed
        self.labels: dict[int, torch.Tensor] = {}
        self.tasks = task_classes(cfg, classes)
        self.local_labels: dict[int, torch.Tensor] = {}  # class_tasks with local labels: dataset label -> 0..k-1
        self.cycles = cycle_indices(cfg, train_y, self.tasks)
        self.generator = seeded_generator(cfg.seed, "batches")
        replay = cfg.stream == "split" and cfg.replay.enabled
        self.buffer = (ReplayBuffer(cfg.replay.per_class, cfg.replay.cap, self.generator, cfg.replay.policy)
                       if replay else None)

    @property
    def distinct_tasks(self) -> bool:
        """Whether each cycle is a task of its own (the epoch rows' `task` column counts them)."""
        return self.cfg.stream in ("split", "permuted", "random_label", "class_tasks")

    def transform(self, task: int, x: torch.Tensor, y: torch.Tensor, indices: torch.Tensor | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """The examples (x, y) as task `task` presents them: permuted streams move the pixels by the task's fixed
        permutation, random-label streams give each training example (`indices` into the training set) the
        task's random label; evaluation data (no indices) keeps its true labels; class_tasks with local labels number
        the task's classes 0..k-1 (evaluation data must hold only those: `eval_classes`). Other streams: unchanged."""
        if self.cfg.stream == "class_tasks" and self.cfg.task_labels == "local":
            return x, self.local_label_map(task).to(y.device)[y]
        if self.cfg.stream == "permuted":
            permutation = self.permutation(task).to(x.device)
            # index_select, not x[:, permutation]: the same result, 73 -> 18 us on a batch of 16 (benchmarks/stream_step.py)
            return x.flatten(1).index_select(1, permutation).view_as(x), y
        if self.cfg.stream == "random_label" and indices is not None:
            return x, self.random_labels(task).to(y.device)[indices]
        return x, y

    def permutation(self, task: int) -> torch.Tensor:
        if task not in self.permutations:
            generator = seeded_generator(self.cfg.seed, f"permutation:{task}")
            self.permutations[task] = torch.randperm(self.pixels, generator=generator)
        return self.permutations[task]

    def local_label_map(self, task: int) -> torch.Tensor:
        if task not in self.local_labels:
            mapping = torch.full((self.classes,), -1, dtype=torch.long)  # -1: not a class of the task
            mapping[torch.tensor(self.tasks[task])] = torch.arange(len(self.tasks[task]))
            self.local_labels[task] = mapping
        return self.local_labels[task]

    def random_labels(self, task: int) -> torch.Tensor:
        if task not in self.labels:
            generator = seeded_generator(self.cfg.seed, f"random-labels:{task}")
            self.labels[task] = torch.randint(self.classes, (len(self.train_y),), generator=generator)
        return self.labels[task]

    def task_indices(self, cycle: int) -> torch.Tensor:
        return self.cycles[cycle]

    def eval_classes(self, cycle: int) -> list[int]:
        """The classes test accuracy is measured on after cycle `cycle`: a split stream's classes seen so far (one
        shared head), a class_tasks stream's own task (Continual ImageNet's held-out test of the task), else all."""
        if self.cfg.stream == "class_tasks":
            return list(self.tasks[cycle])
        return sorted({c for task in self.tasks[: cycle + 1] for c in task})

    def epoch_batches(self, cycle: int) -> list[torch.Tensor]:
        """Index batches of one epoch over the cycle's task, with replay samples once the buffer holds data:
        `replay.fraction` of the batch size, inside the batch (composition "share") or on top of it ("extra")."""
        current = self.task_indices(cycle)
        batch = self.cfg.batch_size
        if self.cfg.steps_per_epoch:  # passes over the task's data, each reshuffled, cut into that many full batches
            passes = math.ceil(self.cfg.steps_per_epoch * batch / len(current))
            order = torch.cat([current[torch.randperm(len(current), generator=self.generator)] for _ in range(passes)])
            return list(order[: self.cfg.steps_per_epoch * batch].split(batch))
        current = current[torch.randperm(len(current), generator=self.generator)]
        replaying = self.buffer is not None and len(self.buffer) > 0
        if replaying:
            replay_size = round(batch * self.cfg.replay.fraction)
            current_size = batch - replay_size if self.cfg.replay.composition == "share" else batch
            return [torch.cat([chunk, self.buffer.sample(replay_size)]) for chunk in current.split(current_size)]
        return list(current.split(batch))

    def end_task(self, cycle: int) -> None:
        """New classes enter the replay buffer at the end of their task."""
        if self.buffer is not None:
            self.buffer.add_classes(self.train_y, self.task_indices(cycle), self.tasks[cycle])


def head_size(cfg: RunConfig, classes: int) -> int:
    """Outputs of the network's head: the dataset's classes, or the most classes of a task with local labels."""
    if cfg.stream == "class_tasks" and cfg.task_labels == "local":
        return max(cfg.task_classes)
    return classes
