"""Small IDX datasets in the original MNIST file format, for tests that must not download."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import torch

IMAGE_SIDE = 28


def make_idx_tensors(n_train: int, n_test: int, classes: int = 10, seed: int = 0) -> dict[str, torch.Tensor]:
    """The four uint8 arrays of an IDX dataset, keyed by their original archive names."""
    generator = torch.Generator().manual_seed(seed)

    def images(n: int) -> torch.Tensor:
        return torch.randint(0, 256, (n, IMAGE_SIDE, IMAGE_SIDE), generator=generator, dtype=torch.uint8)

    def labels(n: int) -> torch.Tensor:
        return torch.randint(0, classes, (n,), generator=generator, dtype=torch.uint8)

    return {
        "train-images-idx3-ubyte.gz": images(n_train),
        "train-labels-idx1-ubyte.gz": labels(n_train),
        "t10k-images-idx3-ubyte.gz": images(n_test),
        "t10k-labels-idx1-ubyte.gz": labels(n_test),
    }


def idx_gz_bytes(array: torch.Tensor) -> bytes:
    """An IDX file of unsigned bytes (magic 2051 for 3-d images, 2049 for 1-d labels), gzipped."""
    magic = {3: 2051, 1: 2049}[array.dim()]
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return gzip.compress(header + array.numpy().tobytes(), mtime=0)


def write_idx_dataset(folder, n_train: int, n_test: int, classes: int = 10, seed: int = 0) -> dict[str, str]:
    """Write the four .gz archives into folder; return {archive name: MD5 of the archive}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    md5s = {}
    for file_name, array in make_idx_tensors(n_train, n_test, classes, seed).items():
        data = idx_gz_bytes(array)
        (folder / file_name).write_bytes(data)
        md5s[file_name] = hashlib.md5(data).hexdigest()
    return md5s
