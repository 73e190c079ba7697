"""Small archives in the format of the published tiny-imagenet-200.zip, written by the tests.

Layout of the real archive: tiny-imagenet-200/{wnids.txt, words.txt}, train/<wnid>/images/<wnid>_<i>.JPEG
with train/<wnid>/<wnid>_boxes.txt, val/images/val_<i>.JPEG with val/val_annotations.txt
(file, wnid, bounding box, tab-separated), and test/images/test_<i>.JPEG without labels.
"""

import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = "tiny-imagenet-200"
ARCHIVE = "tiny-imagenet-200.zip"


def jpeg(rng: np.random.Generator, grey: bool) -> bytes:
    """A 64x64 JPEG of smooth random colour (smooth, so JPEG loses little) or a greyscale one."""
    base = rng.integers(30, 226, size=1 if grey else 3)
    ramp = np.linspace(-20, 20, 64)
    pixels = np.clip(base[None, None, :] + ramp[:, None, None], 0, 255).astype(np.uint8)
    pixels = np.repeat(pixels, 64, axis=1)
    image = Image.fromarray(pixels[:, :, 0], mode="L") if grey else Image.fromarray(pixels, mode="RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def write_tiny_imagenet_archive(folder, wnids: list[str], train_per_class: int, val_per_class: int, seed: int = 0,
                                omit: tuple[str, ...] = (), replace: dict[str, bytes] | None = None):
    """Write the archive into folder. Returns ({archive name: MD5}, members), members[split] being the
    (member path, wnid) pairs of that split; `omit` leaves members out, `replace` swaps their bytes."""
    rng = np.random.default_rng(seed)
    files = {f"{ROOT}/wnids.txt": "\n".join(wnids).encode() + b"\n",
             f"{ROOT}/words.txt": "".join(f"{wnid}\tclass {wnid}\n" for wnid in wnids).encode()}
    members = {"train": [], "test": []}
    for wnid in wnids:
        boxes = []
        for i in range(train_per_class):
            name = f"{wnid}_{i}.JPEG"
            files[f"{ROOT}/train/{wnid}/images/{name}"] = jpeg(rng, grey=(i == 1))  # TinyImageNet has grey JPEGs
            members["train"].append((f"{ROOT}/train/{wnid}/images/{name}", wnid))
            boxes.append(f"{name}\t0\t0\t63\t63\n")
        files[f"{ROOT}/train/{wnid}/{wnid}_boxes.txt"] = "".join(boxes).encode()
    annotations = []
    for i in range(val_per_class * len(wnids)):
        wnid = wnids[rng.integers(len(wnids))]
        files[f"{ROOT}/val/images/val_{i}.JPEG"] = jpeg(rng, grey=False)
        members["test"].append((f"{ROOT}/val/images/val_{i}.JPEG", wnid))
        annotations.append(f"val_{i}.JPEG\t{wnid}\t1\t2\t60\t61\n")
    files[f"{ROOT}/val/val_annotations.txt"] = "".join(annotations).encode()
    files[f"{ROOT}/test/images/test_0.JPEG"] = jpeg(rng, grey=False)  # unlabelled: never read
    files.update(replace or {})

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(folder / ARCHIVE, "w") as archive:
        for name in rng.permutation(sorted(files)):  # the reader must not rely on the order in the zip
            if name not in omit:
                archive.writestr(str(name), files[name])
    members["train"].sort()  # the training set is in member-path order
    return {ARCHIVE: hashlib.md5((folder / ARCHIVE).read_bytes()).hexdigest()}, members


def tiny_imagenet_spec(files: dict[str, str], mirrors: list) -> dict:
    """A data.datasets entry of source tiny_imagenet that finds the archive in the mirrors only."""
    return {"source": "tiny_imagenet", "files": files, "mirrors": [str(m) for m in mirrors], "urls": [], "root": ROOT}


def decoded(archive_path, member: str) -> np.ndarray:
    """The member decoded by Pillow as RGB, [3, 64, 64]."""
    with zipfile.ZipFile(archive_path) as archive:
        image = Image.open(io.BytesIO(archive.read(member))).convert("RGB")
    return np.asarray(image).transpose(2, 0, 1)
