"""Small archives in the format of the published downsampled ImageNet 32x32, written by the tests.

Like Imagenet32_train.zip (train_data_batch_1 .. train_data_batch_10 in a folder Imagenet32_train/) and
Imagenet32_val.zip (val_data): pickles, by Python 3 with its then default protocol 3, of dicts with "data"
(uint8 array [N, 3072], channel-major rows: 1024 R, 1024 G, 1024 B bytes), "labels" (a list of ints 1..1000,
one-based) and, in the training batches only, "mean" (the float64 mean row of the whole training set).
"""

from __future__ import annotations

import hashlib
import pickle
import zipfile
from pathlib import Path

import numpy as np

TRAIN_ARCHIVE, VAL_ARCHIVE = "Imagenet32_train.zip", "Imagenet32_val.zip"
TRAIN_MEMBERS = [f"train_data_batch_{i}" for i in range(1, 11)]
VAL_MEMBER = "val_data"
TRAIN_BATCH_SIZES = (3, 1, 2, 2, 1, 3, 1, 2, 1, 2)  # unequal, like the real last batch (128,123 vs 128,116)


def make_imagenet32_batches(n_val: int = 4, seed: int = 0) -> dict[str, dict]:
    """{member base name: batch dict} of all ten training batches and the validation batch."""
    rng = np.random.default_rng(seed)

    def batch(size: int) -> dict:
        return {"data": rng.integers(0, 256, size=(size, 3072), dtype=np.uint8),
                "labels": rng.integers(1, 1001, size=size).tolist()}

    batches = {member: batch(size) for member, size in zip(TRAIN_MEMBERS, TRAIN_BATCH_SIZES)}
    mean = np.concatenate([entry["data"] for entry in batches.values()]).mean(axis=0)
    for entry in batches.values():
        entry["mean"] = mean
    batches[VAL_MEMBER] = batch(n_val)
    batches[VAL_MEMBER]["labels"][0] = 1000  # both ends of the one-based range
    batches[TRAIN_MEMBERS[0]]["labels"][0] = 1
    return batches


def write_imagenet32_archives(folder, n_val: int = 4, seed: int = 0, omit: tuple[str, ...] = (),
                              replace: dict[str, bytes] | None = None) -> dict[str, str]:
    """Write both zips into folder (training batches in the folder Imagenet32_train/, val_data at the top, so
    both placements are read); `omit` leaves members out, `replace` swaps their bytes. Returns {name: MD5}."""
    batches = make_imagenet32_batches(n_val, seed)
    members = {member: pickle.dumps(entry, protocol=3) for member, entry in batches.items()}
    members.update(replace or {})
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    layout = {TRAIN_ARCHIVE: {f"Imagenet32_train/{member}": member for member in TRAIN_MEMBERS},
              VAL_ARCHIVE: {VAL_MEMBER: VAL_MEMBER}}
    for archive_name, paths in layout.items():
        with zipfile.ZipFile(folder / archive_name, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            if archive_name == TRAIN_ARCHIVE:
                archive.writestr("Imagenet32_train/", b"")  # the folder's own entry, as zip tools write it
            for path, member in paths.items():
                if member not in omit:
                    archive.writestr(path, members[member])
    return {name: hashlib.md5((folder / name).read_bytes()).hexdigest() for name in layout}


def imagenet32_spec(files: dict[str, str | None], mirrors: list) -> dict:
    """A data.datasets entry of source imagenet32 that finds the archives in the mirrors only."""
    return {"source": "imagenet32", "files": files, "mirrors": [str(m) for m in mirrors], "urls": []}
