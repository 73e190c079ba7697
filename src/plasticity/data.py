"""Datasets as preloaded uint8 tensors: prepared once per scale (verified, copied or downloaded,
parsed) into one .pt file, then loaded whole by every run. Sources: "idx" (MNIST, Fashion-MNIST),
"cifar" (the python-version CIFAR-10/100 archives), "tiny_imagenet" (the tiny-imagenet-200.zip of JPEGs),
"imagenet32" (the downsampled ImageNet 32x32 zips of pickled batches, which need a login to download)
and "synthetic".

The dataset file is a dict {"name", "train_x", "train_y", "test_x", "test_y", "classes"} with
uint8 images [N, C, H, W] and int64 labels [N]; normalisation is left to the training code.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import math
import os
import pickle
import shutil
import sys
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import numpy as np
import torch

from plasticity.io import atomic_path

DATASET_KEYS = ("name", "train_x", "train_y", "test_x", "test_y", "classes")

# The four archives of an IDX dataset, under their original names (MNIST and Fashion-MNIST alike).
IDX_ARCHIVES = {
    "train_x": "train-images-idx3-ubyte.gz",
    "train_y": "train-labels-idx1-ubyte.gz",
    "test_x": "t10k-images-idx3-ubyte.gz",
    "test_y": "t10k-labels-idx1-ubyte.gz",
}
IDX_IMAGES_MAGIC = 2051  # unsigned bytes, 3 dimensions (N, H, W)
IDX_LABELS_MAGIC = 2049  # unsigned bytes, 1 dimension (N)

# CIFAR batches hold uint8 rows of 3072 = 3 x 32 x 32 bytes (channel-major) under "data", and the
# labels under "labels" (CIFAR-10) or "fine_labels" (CIFAR-100, whose 100 fine classes are used).
CIFAR_IMAGE_SHAPE = (3, 32, 32)
CIFAR_CLASSES = {"labels": 10, "fine_labels": 100}

# TinyImageNet: 64x64 JPEGs, 500 training images of each of 200 classes under
# <root>/train/<wnid>/images/, and the 10,000 labelled validation images, <root>/val/images/ with their
# classes in <root>/val/val_annotations.txt. The official test split has no labels, so the validation
# split is our test set. Class k is the k-th WordNet id of wnids.txt in sorted order.
TINY_IMAGENET_SHAPE = (3, 64, 64)
TINY_IMAGENET_PROGRESS_EVERY = 10_000  # images between progress lines (decoding takes about a minute)

# ImageNet32x32 (Chrabaszcz, Loshchilov & Hutter 2017, https://patrykchrabaszcz.github.io/Imagenet32/): all of
# ImageNet's 1,281,167 training images in 10 batches and its 50,000 validation images (our test set), in the
# CIFAR batch layout: pickled dicts of "data" (uint8 [N, 3072]), "labels" (1..1000, one-based) and, in the
# training batches, "mean". A zip may hold them at its top or in a folder (Imagenet32_train/), so members are
# found by their base name. image-net.org hands the zips out only after a login: there is no download URL.
IMAGENET32_ARCHIVES = {"train": "Imagenet32_train.zip", "test": "Imagenet32_val.zip"}
IMAGENET32_MEMBERS = {"train": [f"train_data_batch_{i}" for i in range(1, 11)], "test": ["val_data"]}
IMAGENET32_CLASSES = 1000
IMAGENET32_DOWNLOAD_PAGE = "https://image-net.org/download-images"

# Synthetic data: each image is a class prototype blended with a fresh random image. The weight is
# small so that learning takes a few epochs: the 784-256-256-10 MLP (SGD lr 0.01, batch 64, 2000
# training images) reaches ~35% test accuracy after 2 epochs and ~94% after 5.
SYNTHETIC_PROTOTYPE_WEIGHT = 0.15
DEFAULT_SYNTHETIC_SHAPE = (1, 28, 28)


class DatasetUnavailable(RuntimeError):
    """No valid copy of a dataset's files could be found or downloaded."""


class DatasetFileError(RuntimeError):
    """A raw archive or a prepared dataset file is unreadable."""


def prepare_dataset(name: str, spec: dict, raw_dir: Path, out_path: Path) -> None:
    """Build the dataset file `out_path` from the config entry data.datasets.<name>."""
    if spec["source"] == "idx":
        dataset = _prepare_idx(name, spec, Path(raw_dir))
    elif spec["source"] == "cifar":
        dataset = _prepare_cifar(name, spec, Path(raw_dir))
    elif spec["source"] == "tiny_imagenet":
        dataset = _prepare_tiny_imagenet(name, spec, Path(raw_dir))
    elif spec["source"] == "imagenet32":
        dataset = _prepare_imagenet32(name, spec, Path(raw_dir))
    elif spec["source"] == "synthetic":
        dataset = make_synthetic(name, spec)
    else:
        raise ValueError(f"data.datasets.{name}.source: unknown source {spec['source']!r}")
    with atomic_path(out_path) as tmp:
        torch.save(dataset, tmp)


def load_dataset(path) -> dict:
    """Read a dataset file written by prepare_dataset."""
    path = Path(path)
    rerun = f"rerun the data rule: snakemake --forcerun {path} (results/<scale>/data/<name>.pt)"
    if not path.exists():
        raise DatasetFileError(f"Dataset file {path} is missing; {rerun}")
    try:
        dataset = torch.load(path, weights_only=True)
    except Exception as error:  # torch raises many types for a truncated or foreign file
        raise DatasetFileError(f"Dataset file {path} is corrupt ({type(error).__name__}); {rerun}") from error
    if not isinstance(dataset, dict) or set(DATASET_KEYS) - set(dataset):
        raise DatasetFileError(f"Dataset file {path} lacks the keys {DATASET_KEYS}; {rerun}")
    return dataset


def make_synthetic(name: str, spec: dict) -> dict:
    """Deterministic, learnable class-prototype data for smoke runs."""
    generator = torch.Generator().manual_seed(spec["seed"])
    shape = tuple(spec.get("shape", DEFAULT_SYNTHETIC_SHAPE))
    classes = spec["classes"]
    prototypes = torch.rand((classes, *shape), generator=generator) * 255

    def sample(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        # Balanced labels, so even a tiny split has every class of every task.
        labels = (torch.arange(n) % classes)[torch.randperm(n, generator=generator)]
        background = torch.rand((n, *shape), generator=generator) * 255
        w = SYNTHETIC_PROTOTYPE_WEIGHT
        images = w * prototypes[labels] + (1 - w) * background
        return images.round().to(torch.uint8), labels

    train_x, train_y = sample(spec["train_size"])
    test_x, test_y = sample(spec["test_size"])
    return {"name": name, "train_x": train_x, "train_y": train_y,
            "test_x": test_x, "test_y": test_y, "classes": classes}


def _prepare_idx(name: str, spec: dict, raw_dir: Path) -> dict:
    _obtain_files(name, spec, raw_dir, IDX_ARCHIVES.values())
    tensors = {key: _read_idx_gz(raw_dir / file_name) for key, file_name in IDX_ARCHIVES.items()}
    for split in ("train", "test"):
        images, labels = tensors[f"{split}_x"], tensors[f"{split}_y"]
        if images.dim() != 3 or labels.dim() != 1:
            raise DatasetFileError(f"{raw_dir}: {split} images must be 3-d and labels 1-d IDX files")
        if len(images) != len(labels):
            raise DatasetFileError(f"{raw_dir}: {len(images)} {split} images but {len(labels)} labels")
    return {
        "name": name,
        "train_x": tensors["train_x"].unsqueeze(1),
        "train_y": tensors["train_y"].long(),
        "test_x": tensors["test_x"].unsqueeze(1),
        "test_y": tensors["test_y"].long(),
        "classes": int(tensors["train_y"].max()) + 1,
    }


def _obtain_files(name: str, spec: dict, raw_dir: Path, file_names) -> None:
    """Verified copies in raw_dir of a dataset's files (IDX, ImageNet32), whose names are fixed."""
    if set(spec["files"]) != set(file_names):
        raise ValueError(f"data.datasets.{name}.files must name exactly {sorted(file_names)}")
    raw_dir.mkdir(parents=True, exist_ok=True)
    missing = {file_name: md5 for file_name, md5 in spec["files"].items()
               if not _obtain_file(name, file_name, md5, spec, raw_dir)}
    if missing:
        raise DatasetUnavailable(_unavailable_message(name, spec, raw_dir, missing))


def _obtain_archive(name: str, spec: dict, raw_dir: Path) -> Path:
    """The verified copy in raw_dir of a dataset published as a single archive (CIFAR, TinyImageNet)."""
    if len(spec["files"]) != 1:
        raise ValueError(f"data.datasets.{name}.files must name exactly one archive")
    [(archive_name, md5)] = spec["files"].items()
    raw_dir.mkdir(parents=True, exist_ok=True)
    if not _obtain_file(name, archive_name, md5, spec, raw_dir):
        raise DatasetUnavailable(_unavailable_message(name, spec, raw_dir, spec["files"]))
    return raw_dir / archive_name


def _prepare_cifar(name: str, spec: dict, raw_dir: Path) -> dict:
    archive = _obtain_archive(name, spec, raw_dir)
    label_key = spec["label_key"]
    classes = CIFAR_CLASSES[label_key]
    dataset = {"name": name, "classes": classes}
    try:
        tar = tarfile.open(archive, "r:gz")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise DatasetFileError(f"{archive} is not a valid .tar.gz archive ({error}); delete it and rerun") from error
    with tar:
        for split in ("train", "test"):
            batches = [_read_cifar_batch(tar, archive, member, label_key, classes)
                       for member in spec["members"][split]]
            dataset[f"{split}_x"] = torch.cat([images for images, _ in batches])
            dataset[f"{split}_y"] = torch.cat([labels for _, labels in batches])
    return dataset


def _read_cifar_batch(tar: tarfile.TarFile, archive: Path, member: str, label_key: str,
                      classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Images [N, 3, 32, 32] (uint8) and labels [N] (int64) of one pickled batch inside the archive."""
    where = f"{archive}, member {member}"
    try:
        file = tar.extractfile(member)  # KeyError if absent, None if not a regular file
        data = None if file is None else file.read()
    except KeyError:
        data = None
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise DatasetFileError(f"{where}: unreadable, the archive is truncated or corrupt ({error}); "
                               f"delete it and rerun") from error
    if data is None:
        raise DatasetFileError(f"{where}: no such file in the archive (see the key members of the dataset)")

    # Unpickling can run code, so only the members the config names are unpickled, and only after
    # _obtain_file has checked the archive's MD5: these are the published CIFAR files.
    try:
        entry = pickle.loads(data, encoding="latin1")  # the batches were pickled by Python 2
    except Exception as error:  # a bad pickle raises many types
        raise DatasetFileError(f"{where}: not a CIFAR batch ({type(error).__name__}: {error})") from error
    return _cifar_layout_batch(entry, where, "a CIFAR batch", label_key, first_label=0, classes=classes)


def _cifar_layout_batch(entry, where: str, kind: str, label_key: str, first_label: int,
                        classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Images [N, 3, 32, 32] (uint8) and 0-based labels [N] (int64) of an unpickled batch in the CIFAR layout
    (CIFAR, ImageNet32): rows of 3072 channel-major bytes under "data", labels first_label.. under label_key."""
    try:
        images = torch.from_numpy(entry["data"])  # no copy: an ImageNet32 training batch is 394 MB
        labels = torch.tensor(entry[label_key], dtype=torch.int64)
    except Exception as error:  # a foreign object lacks the keys or holds other types
        raise DatasetFileError(f"{where}: not {kind} ({type(error).__name__}: {error})") from error
    row_size = math.prod(CIFAR_IMAGE_SHAPE)
    if images.dtype != torch.uint8 or images.dim() != 2 or images.shape[1] != row_size \
            or labels.dim() != 1 or len(labels) != len(images):
        raise DatasetFileError(f"{where}: expected uint8 data [N, {row_size}] and N labels, got data "
                               f"{list(images.shape)} of {images.dtype} and {len(labels)} labels")
    last_label = first_label + classes - 1
    if len(labels) and (labels.min() < first_label or labels.max() > last_label):
        raise DatasetFileError(f"{where}: {label_key} outside {first_label}..{last_label}")
    return images.reshape(-1, *CIFAR_IMAGE_SHAPE), labels - first_label


def _prepare_tiny_imagenet(name: str, spec: dict, raw_dir: Path) -> dict:
    archive = _obtain_archive(name, spec, raw_dir)
    root = spec["root"]
    with _open_zip(archive) as zip_file:
        read = functools.partial(_read_zip_member, zip_file, archive)
        wnids = sorted(read(f"{root}/wnids.txt").decode().split())
        label_of = {wnid: label for label, wnid in enumerate(wnids)}

        def label(wnid: str, where: str) -> int:
            if wnid not in label_of:
                raise DatasetFileError(f"{archive}, {where}: class {wnid!r} is not in {root}/wnids.txt")
            return label_of[wnid]

        train_prefix = f"{root}/train/"
        train = [(member, label(member.split("/")[-3], member)) for member in sorted(zip_file.namelist())
                 if member.startswith(train_prefix) and member.endswith(".JPEG")
                 and member.split("/")[-2] == "images"]
        annotations = f"{root}/val/val_annotations.txt"
        test = []
        for number, line in enumerate(read(annotations).decode().splitlines(), start=1):
            if not line.strip():
                continue
            fields = line.split("\t")  # file, wnid, then the bounding box (unused)
            if len(fields) < 2:
                raise DatasetFileError(f"{archive}, {annotations} line {number}: expected <file>\\t<wnid>\\t<box>, "
                                       f"got {line!r}")
            test.append((f"{root}/val/images/{fields[0]}", label(fields[1], annotations)))
        if not train or not test:
            raise DatasetFileError(f"{archive}: no training images under {train_prefix}<wnid>/images/ "
                                   f"or no lines in {annotations}")
        dataset = {"name": name, "classes": len(wnids)}
        for split, images in (("train", train), ("test", test)):
            dataset[f"{split}_x"] = _decode_jpegs(name, zip_file, archive, [member for member, _ in images])
            dataset[f"{split}_y"] = torch.tensor([label for _, label in images], dtype=torch.int64)
    return dataset


def _open_zip(archive: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as error:
        raise DatasetFileError(f"{archive} is not a valid .zip archive ({error}); delete it and rerun") from error


def _read_zip_member(zip_file: zipfile.ZipFile, archive: Path, member: str) -> bytes:
    try:
        return zip_file.read(member)
    except KeyError:
        raise DatasetFileError(f"{archive}, member {member}: no such file in the archive") from None
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as error:
        raise DatasetFileError(f"{archive}, member {member}: unreadable, the archive is truncated or corrupt "
                               f"({error}); delete it and rerun") from error


def _decode_jpegs(name: str, zip_file: zipfile.ZipFile, archive: Path, members: list[str]) -> torch.Tensor:
    """uint8 [N, 3, 64, 64]: every member decoded as RGB (a few TinyImageNet JPEGs are greyscale)."""
    import PIL.Image  # here, not at the top: only this source needs it, and every training job imports this module

    images = torch.empty((len(members), *TINY_IMAGENET_SHAPE), dtype=torch.uint8)
    for index, member in enumerate(members):
        data = _read_zip_member(zip_file, archive, member)
        try:
            with PIL.Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
                pixels = torch.from_numpy(np.asarray(image.convert("RGB")).copy()).permute(2, 0, 1)
        except (PIL.UnidentifiedImageError, OSError) as error:
            raise DatasetFileError(f"{archive}, member {member}: not a readable JPEG ({error})") from error
        if tuple(pixels.shape) != TINY_IMAGENET_SHAPE:
            raise DatasetFileError(f"{archive}, member {member}: image of shape {list(pixels.shape)}, "
                                   f"expected {list(TINY_IMAGENET_SHAPE)}")
        images[index] = pixels
        if (index + 1) % TINY_IMAGENET_PROGRESS_EVERY == 0:
            _log(name, f"decoded {index + 1}/{len(members)} images")
    return images


def _prepare_imagenet32(name: str, spec: dict, raw_dir: Path) -> dict:
    _obtain_files(name, spec, raw_dir, IMAGENET32_ARCHIVES.values())
    dataset = {"name": name, "classes": IMAGENET32_CLASSES}
    for split, archive_name in IMAGENET32_ARCHIVES.items():
        images, labels = _read_imagenet32_archive(name, raw_dir / archive_name, IMAGENET32_MEMBERS[split])
        dataset[f"{split}_x"], dataset[f"{split}_y"] = images, labels
    for archive_name, md5 in spec["files"].items():
        if md5 is None:  # printed only now that the copy has parsed, so that a broken one is never pinned
            _log(name, f"{archive_name}: no MD5 pinned; this copy, which parsed, has MD5 "
                       f"{_md5_of(raw_dir / archive_name)}: set it as data.datasets.{name}.files.{archive_name}")
    return dataset


def _read_imagenet32_archive(name: str, archive: Path, members: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Images [N, 3, 32, 32] (uint8) and 0-based labels [N] of the batches `members` (base names), in order."""
    images, labels = [], []
    with _open_zip(archive) as zip_file:
        paths_of = {}
        for info in zip_file.infolist():
            if not info.is_dir():
                paths_of.setdefault(PurePosixPath(info.filename).name, []).append(info.filename)
        for number, member in enumerate(members, start=1):
            paths = paths_of.get(member, [])
            if len(paths) != 1:
                problem = f"found {len(paths)} times ({', '.join(paths)})" if paths else "no such file in the archive"
                raise DatasetFileError(f"{archive}, member {member}: {problem}")
            batch_images, batch_labels = _read_imagenet32_batch(zip_file, archive, paths[0])
            images.append(batch_images)
            labels.append(batch_labels)
            _log(name, f"{archive.name}: read {paths[0]}, {len(batch_images)} images (batch {number}/{len(members)})")
    return _concatenate_releasing(images), torch.cat(labels)


def _read_imagenet32_batch(zip_file: zipfile.ZipFile, archive: Path, member: str) -> tuple[torch.Tensor, torch.Tensor]:
    where = f"{archive}, member {member}"
    data = _read_zip_member(zip_file, archive, member)
    try:
        # latin1: the published batches were pickled by Python 3, which it reads alike; a Python 2 copy needs it.
        entry = _ArrayUnpickler(io.BytesIO(data), encoding="latin1").load()
    except Exception as error:  # a bad pickle raises many types
        raise DatasetFileError(f"{where}: not an ImageNet32 batch ({type(error).__name__}: {error})") from error
    del data  # 394 MB per training batch, unneeded once unpickled
    return _cifar_layout_batch(entry, where, "an ImageNet32 batch", "labels", first_label=1,
                               classes=IMAGENET32_CLASSES)


class _ArrayUnpickler(pickle.Unpickler):
    """An unpickler of plain data and numpy arrays only. An ImageNet32 copy may be parsed before any MD5
    vouches for it (data.datasets.<name>.files: null), and an unrestricted pickle can run any code."""

    ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
               ("numpy._core.multiarray", "_reconstruct"),  # its numpy 1 and numpy 2 names
               ("_codecs", "encode")}  # how Python 3 pickles bytes with protocol 2 or lower

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only numpy arrays are expected")
        return super().find_class(module, name)


def _concatenate_releasing(batches: list[torch.Tensor]) -> torch.Tensor:
    """torch.cat(batches), emptying the list as it copies: the ImageNet32 training images take 3.9 GB, and
    the pages of torch.empty are taken only when written, so memory holds about one copy of them, not two."""
    out = torch.empty((sum(len(batch) for batch in batches), *batches[0].shape[1:]), dtype=batches[0].dtype)
    start = 0
    while batches:
        batch = batches.pop(0)
        out[start:start + len(batch)] = batch
        start += len(batch)
    return out


def _obtain_file(name: str, file_name: str, md5: str | None, spec: dict, raw_dir: Path) -> bool:
    """Make raw_dir/file_name a valid copy: keep it, copy it from a mirror or download it."""
    target = raw_dir / file_name
    if target.exists():
        if _has_md5(target, md5):
            _log(name, f"{file_name}: found in raw dir {raw_dir}")
            return True
        _log(name, f"{file_name}: the copy in {raw_dir} has the wrong MD5, fetching it again")

    for mirror in spec["mirrors"]:
        candidate = Path(mirror).expanduser() / file_name
        if not candidate.exists():
            continue
        if not _has_md5(candidate, md5):
            _log(name, f"{file_name}: skipping {candidate}: its MD5 is not {md5}")
            continue
        _log(name, f"{file_name}: copied from mirror {candidate}")
        with atomic_path(target) as tmp:
            shutil.copyfile(candidate, tmp)
        return True

    # Imported here: torchvision takes seconds to import, and only a download needs it.
    from torchvision.datasets.utils import download_url

    for base_url in spec["urls"]:
        url = base_url.rstrip("/") + "/" + file_name
        _log(name, f"{file_name}: downloading {url}")
        # A fresh folder: download_url skips the download when the file exists, and an aborted
        # transfer must never be left behind under the final name.
        with tempfile.TemporaryDirectory(dir=raw_dir) as download_dir:
            try:
                download_url(url, download_dir, file_name, md5=None)
            except (OSError, RuntimeError) as error:  # URLError and HTTPError are OSErrors
                _log(name, f"{file_name}: download from {url} failed: {error}")
                continue
            downloaded = Path(download_dir) / file_name
            if not _has_md5(downloaded, md5):
                _log(name, f"{file_name}: download from {url} does not have MD5 {md5}")
                continue
            os.replace(downloaded, target)
        return True
    return False


def _has_md5(path: Path, md5: str | None) -> bool:
    """True if the archive or its decompressed content has this MD5. Content MD5s let a recompressed
    copy qualify: Debian's dataset-fashion-mnist repacks the .gz files, so their archive MD5s differ
    from the upstream ones while the IDX bytes inside are identical. md5 None: not known, so any copy
    qualifies, and parsing it is the check (ImageNet32, whose archive MD5s are published nowhere).
    The files are streamed: the ImageNet32 training archive is 3.6 GB."""
    if md5 is None:
        return True
    if _md5_of(path) == md5:
        return True
    try:
        with gzip.open(path) as content:
            return hashlib.file_digest(content, "md5").hexdigest() == md5
    except (OSError, EOFError, zlib.error):
        return False


def _md5_of(path: Path) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "md5").hexdigest()


def _read_idx_gz(path: Path) -> torch.Tensor:
    """Parse a gzip-compressed IDX file of unsigned bytes (images or labels)."""
    try:
        data = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as error:
        raise DatasetFileError(f"{path} is not a valid gzip archive ({error}); delete it and rerun") from error
    magic = int.from_bytes(data[:4], "big")
    if magic not in (IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC):
        raise DatasetFileError(f"{path} has IDX magic number {magic}, expected "
                               f"{IDX_IMAGES_MAGIC} (images) or {IDX_LABELS_MAGIC} (labels)")
    ndim = magic & 0xFF
    header_size = 4 + 4 * ndim
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    if len(data) != header_size + math.prod(dims):
        raise DatasetFileError(f"{path} holds {len(data) - header_size} data bytes, "
                               f"but its IDX header declares dimensions {dims}")
    return torch.frombuffer(bytearray(data[header_size:]), dtype=torch.uint8).reshape(dims)


def _unavailable_message(name: str, spec: dict, raw_dir: Path, missing: dict[str, str | None]) -> str:
    files = "\n".join(f"  {file_name}  " + (f"MD5 {md5}" if md5 else "MD5 not known (any copy that parses)")
                      for file_name, md5 in missing.items())
    mirrors = ", ".join(str(m) for m in spec["mirrors"]) or "none"
    urls = ", ".join(spec["urls"]) or "none"
    message = (
        f"Dataset {name!r}: no valid copy of these files (an MD5 is of the file or, for a gzip file, of "
        f"its decompressed content):\n{files}\n"
        f"Put them into {raw_dir} or into a folder listed in the config key "
        f"data.datasets.{name}.mirrors (searched: {mirrors}); downloads tried from: {urls}."
    )
    if name == "fashion_mnist":
        message += ("\nOn Debian/Ubuntu, `apt-get install dataset-fashion-mnist` provides them "
                    "in /usr/share/datasets/fashion-mnist.")
    if spec["source"] == "imagenet32":
        message += (f"\nimage-net.org gives them out only after a login: sign in at {IMAGENET32_DOWNLOAD_PAGE}, "
                    f"download {' and '.join(IMAGENET32_ARCHIVES.values())} from its downsampled ImageNet 32x32 "
                    f"files (described at https://patrykchrabaszcz.github.io/Imagenet32/), and put both zips, as "
                    f"downloaded (not unzipped), into one of those folders.")
    return message


def _log(name: str, message: str) -> None:
    print(f"[data {name}] {message}", file=sys.stderr)
