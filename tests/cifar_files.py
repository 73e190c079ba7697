"""Small CIFAR-10/100 archives in the original python-version format, for tests that must not download.

Like the published cifar-10-python.tar.gz and cifar-100-python.tar.gz: a gzipped tar of pickled
dicts with str keys ("data": uint8 array [N, 3072], "labels" or "fine_labels" and "coarse_labels",
"batch_label", "filenames"), plus the label-name meta file.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import torch

CIFAR = {
    10: {
        "archive": "cifar-10-python.tar.gz",
        "label_key": "labels",
        "classes": 10,
        "members": {"train": [f"cifar-10-batches-py/data_batch_{i}" for i in range(1, 6)],
                    "test": ["cifar-10-batches-py/test_batch"]},
        "meta": ("cifar-10-batches-py/batches.meta", "label_names"),
    },
    100: {
        "archive": "cifar-100-python.tar.gz",
        "label_key": "fine_labels",
        "classes": 100,
        "members": {"train": ["cifar-100-python/train"], "test": ["cifar-100-python/test"]},
        "meta": ("cifar-100-python/meta", "fine_label_names"),
    },
}


def make_cifar_batches(version: int, n_train: int, n_test: int, seed: int = 0) -> dict[str, dict]:
    """{member path: batch dict}; the training images are split over the training members in order."""
    layout = CIFAR[version]
    generator = torch.Generator().manual_seed(seed)
    batches = {}
    for split, n in (("train", n_train), ("test", n_test)):
        members = layout["members"][split]
        for index, (member, size) in enumerate(zip(members, np.array_split(np.arange(n), len(members)))):
            size = len(size)
            data = torch.randint(0, 256, (size, 3072), generator=generator, dtype=torch.uint8).numpy()
            labels = torch.randint(0, layout["classes"], (size,), generator=generator).tolist()
            entry = {"batch_label": f"{split} batch {index + 1} of {len(members)}", "data": data,
                     "filenames": [f"image_{split}_{index}_{i}.png" for i in range(size)]}
            if version == 10:
                entry["labels"] = labels
            else:
                entry["fine_labels"] = labels
                entry["coarse_labels"] = [label // 5 for label in labels]
            batches[member] = entry
    return batches


def write_cifar_archive(folder, version: int, n_train: int, n_test: int, seed: int = 0,
                        omit: tuple[str, ...] = ()) -> dict[str, str]:
    """Write the .tar.gz archive (without the members in `omit`) into folder; return {name: MD5}."""
    layout = CIFAR[version]
    meta_member, meta_key = layout["meta"]
    members = make_cifar_batches(version, n_train, n_test, seed)
    members[meta_member] = {meta_key: [f"class_{k}" for k in range(layout["classes"])]}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for member, entry in members.items():
            if member in omit:
                continue
            data = pickle.dumps(entry, protocol=2)
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    archive = gzip.compress(buffer.getvalue(), mtime=0)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / layout["archive"]).write_bytes(archive)
    return {layout["archive"]: hashlib.md5(archive).hexdigest()}


def cifar_spec(version: int, files: dict[str, str], mirrors: list) -> dict:
    """A data.datasets entry of source cifar that finds the archive in the mirrors only."""
    layout = CIFAR[version]
    return {"source": "cifar", "files": files, "mirrors": [str(m) for m in mirrors], "urls": [],
            "label_key": layout["label_key"], "members": layout["members"]}
