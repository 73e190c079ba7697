import gzip
import hashlib
import pickle
import shutil
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import torch

from cifar_files import CIFAR, cifar_spec, make_cifar_batches, write_cifar_archive
from idx_files import idx_gz_bytes, make_idx_tensors, write_idx_dataset
from imagenet32_files import (TRAIN_ARCHIVE, TRAIN_MEMBERS, VAL_ARCHIVE, VAL_MEMBER, imagenet32_spec,
                              make_imagenet32_batches, write_imagenet32_archives)
from tiny_imagenet_files import ARCHIVE, ROOT, decoded, tiny_imagenet_spec, write_tiny_imagenet_archive
from plasticity.data import DatasetFileError, DatasetUnavailable, load_dataset, make_synthetic, prepare_dataset

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def idx_spec(files: dict[str, str], mirrors: list) -> dict:
    return {"source": "idx", "files": files, "mirrors": [str(m) for m in mirrors], "urls": []}


def synthetic_spec(seed: int = 0) -> dict:
    return {"source": "synthetic", "classes": 4, "train_size": 40, "test_size": 12, "seed": seed, "shape": [3, 8, 8]}


def test_valid_mirror_copy_is_copied_and_parsed(tmp_path):
    mirror, raw_dir, out = tmp_path / "mirror", tmp_path / "raw", tmp_path / "data" / "tiny.pt"
    md5s = write_idx_dataset(mirror, n_train=30, n_test=10, classes=10, seed=1)

    prepare_dataset("tiny", idx_spec(md5s, [tmp_path / "empty_mirror", mirror]), raw_dir, out)

    written = make_idx_tensors(30, 10, classes=10, seed=1)
    dataset = load_dataset(out)
    assert dataset["name"] == "tiny" and dataset["classes"] == 10
    assert dataset["train_x"].shape == (30, 1, 28, 28) and dataset["test_x"].shape == (10, 1, 28, 28)
    assert dataset["train_x"].dtype == torch.uint8 and dataset["train_y"].dtype == torch.int64
    assert torch.equal(dataset["train_x"][:, 0], written["train-images-idx3-ubyte.gz"])
    assert torch.equal(dataset["train_y"], written["train-labels-idx1-ubyte.gz"].long())
    assert torch.equal(dataset["test_y"], written["t10k-labels-idx1-ubyte.gz"].long())
    assert sorted(p.name for p in raw_dir.iterdir()) == sorted(md5s)  # no temporary files left


def test_mirror_copy_with_wrong_md5_is_rejected(tmp_path, capsys):
    mirror = tmp_path / "mirror"
    md5s = write_idx_dataset(mirror, n_train=5, n_test=5)
    (mirror / "train-images-idx3-ubyte.gz").write_bytes(idx_gz_bytes(torch.zeros(5, 28, 28, dtype=torch.uint8)))
    raw_dir = tmp_path / "raw"

    with pytest.raises(DatasetUnavailable) as error:
        prepare_dataset("fashion_mnist", idx_spec(md5s, [mirror]), raw_dir, tmp_path / "out.pt")

    message = str(error.value)
    assert f"train-images-idx3-ubyte.gz  MD5 {md5s['train-images-idx3-ubyte.gz']}" in message
    assert "train-labels-idx1-ubyte.gz" not in message  # the valid files were found
    assert str(raw_dir) in message and str(mirror) in message
    assert "data.datasets.fashion_mnist.mirrors" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "skipping" in capsys.readouterr().err
    assert not (tmp_path / "out.pt").exists()


def test_truncated_gzip_with_matching_md5_is_a_clear_error(tmp_path):
    mirror = tmp_path / "mirror"
    md5s = write_idx_dataset(mirror, n_train=5, n_test=5)
    truncated = mirror / "t10k-images-idx3-ubyte.gz"
    truncated.write_bytes(truncated.read_bytes()[:100])
    md5s[truncated.name] = hashlib.md5(truncated.read_bytes()).hexdigest()

    with pytest.raises(DatasetFileError, match="t10k-images-idx3-ubyte.gz.*not a valid gzip"):
        prepare_dataset("tiny", idx_spec(md5s, [mirror]), tmp_path / "raw", tmp_path / "out.pt")


def test_bad_idx_header_is_a_clear_error(tmp_path):
    mirror = tmp_path / "mirror"
    md5s = write_idx_dataset(mirror, n_train=5, n_test=5)
    labels = mirror / "train-labels-idx1-ubyte.gz"
    header_declaring_9_labels = (2049).to_bytes(4, "big") + (9).to_bytes(4, "big")
    labels.write_bytes(gzip.compress(header_declaring_9_labels + bytes(5)))
    md5s[labels.name] = hashlib.md5(labels.read_bytes()).hexdigest()

    with pytest.raises(DatasetFileError, match="train-labels-idx1-ubyte.gz holds 5 data bytes"):
        prepare_dataset("tiny", idx_spec(md5s, [mirror]), tmp_path / "raw", tmp_path / "out.pt")


def test_raw_dir_copy_is_reused_without_the_mirror(tmp_path, capsys):
    mirror, raw_dir = tmp_path / "mirror", tmp_path / "raw"
    md5s = write_idx_dataset(mirror, n_train=5, n_test=5)
    prepare_dataset("tiny", idx_spec(md5s, [mirror]), raw_dir, tmp_path / "first.pt")
    shutil.rmtree(mirror)
    capsys.readouterr()

    prepare_dataset("tiny", idx_spec(md5s, [mirror]), raw_dir, tmp_path / "second.pt")

    assert capsys.readouterr().err.count("found in raw dir") == 4
    assert torch.equal(load_dataset(tmp_path / "first.pt")["train_x"], load_dataset(tmp_path / "second.pt")["train_x"])


def test_download_falls_back_to_the_next_url(tmp_path):
    served, raw_dir = tmp_path / "served", tmp_path / "raw"
    md5s = write_idx_dataset(served, n_train=5, n_test=5)
    handler = partial(SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base_url = f"http://127.0.0.1:{server.server_address[1]}"
        spec = {"source": "idx", "files": md5s, "mirrors": [], "urls": [f"{base_url}/absent/", f"{base_url}/"]}
        prepare_dataset("tiny", spec, raw_dir, tmp_path / "out.pt")
        server.shutdown()

    assert load_dataset(tmp_path / "out.pt")["train_x"].shape == (5, 1, 28, 28)
    assert sorted(p.name for p in raw_dir.iterdir()) == sorted(md5s)


@pytest.mark.parametrize("version", [10, 100])
def test_cifar_archive_from_mirror_is_verified_parsed_and_written(tmp_path, version):
    mirror, raw_dir, out = tmp_path / "mirror", tmp_path / "raw", tmp_path / "data" / "cifar.pt"
    md5s = write_cifar_archive(mirror, version, n_train=23, n_test=7, seed=3)

    prepare_dataset(f"cifar{version}", cifar_spec(version, md5s, [tmp_path / "empty_mirror", mirror]), raw_dir, out)

    layout = CIFAR[version]
    batches = make_cifar_batches(version, n_train=23, n_test=7, seed=3)
    dataset = load_dataset(out)
    assert dataset["name"] == f"cifar{version}" and dataset["classes"] == version
    assert dataset["train_x"].shape == (23, 3, 32, 32) and dataset["test_x"].shape == (7, 3, 32, 32)
    assert dataset["train_x"].dtype == torch.uint8 and dataset["train_y"].dtype == torch.int64
    for split in ("train", "test"):
        written = [batches[member] for member in layout["members"][split]]  # in member order
        pixels = torch.cat([torch.from_numpy(entry["data"]) for entry in written]).reshape(-1, 3, 32, 32)
        labels = [label for entry in written for label in entry[layout["label_key"]]]
        assert torch.equal(dataset[f"{split}_x"], pixels)
        assert dataset[f"{split}_y"].tolist() == labels
        assert 0 <= dataset[f"{split}_y"].min() and dataset[f"{split}_y"].max() < version
    assert sorted(p.name for p in raw_dir.iterdir()) == sorted(md5s)  # no temporary files left


def test_cifar_archive_with_wrong_md5_is_rejected(tmp_path, capsys):
    mirror, raw_dir = tmp_path / "mirror", tmp_path / "raw"
    expected = write_cifar_archive(tmp_path / "other", 10, n_train=5, n_test=5, seed=1)
    write_cifar_archive(mirror, 10, n_train=5, n_test=5, seed=2)

    with pytest.raises(DatasetUnavailable) as error:
        prepare_dataset("cifar10", cifar_spec(10, expected, [mirror]), raw_dir, tmp_path / "out.pt")

    message = str(error.value)
    assert f"cifar-10-python.tar.gz  MD5 {expected['cifar-10-python.tar.gz']}" in message
    assert str(raw_dir) in message and str(mirror) in message
    assert "data.datasets.cifar10.mirrors" in message
    assert "skipping" in capsys.readouterr().err
    assert not (tmp_path / "out.pt").exists()


def test_cifar_archive_without_a_member_is_a_clear_error(tmp_path):
    mirror = tmp_path / "mirror"
    md5s = write_cifar_archive(mirror, 10, n_train=10, n_test=2, omit=("cifar-10-batches-py/data_batch_3",))

    with pytest.raises(DatasetFileError, match=r"cifar-10-python.tar.gz, member cifar-10-batches-py/data_batch_3: "
                                               r"no such file in the archive"):
        prepare_dataset("cifar10", cifar_spec(10, md5s, [mirror]), tmp_path / "raw", tmp_path / "out.pt")
    assert not (tmp_path / "out.pt").exists()


def test_truncated_cifar_archive_with_matching_md5_is_a_clear_error(tmp_path):
    mirror = tmp_path / "mirror"
    archive = mirror / write_cifar_archive(mirror, 100, n_train=10, n_test=2).popitem()[0]
    archive.write_bytes(archive.read_bytes()[:-2000])
    md5s = {archive.name: hashlib.md5(archive.read_bytes()).hexdigest()}

    with pytest.raises(DatasetFileError, match=r"cifar-100-python.tar.gz, member cifar-100-python/train: .*truncated"):
        prepare_dataset("cifar100", cifar_spec(100, md5s, [mirror]), tmp_path / "raw", tmp_path / "out.pt")


def test_cifar_member_that_is_not_a_batch_pickle_is_a_clear_error(tmp_path):
    mirror = tmp_path / "mirror"
    md5s = write_cifar_archive(mirror, 100, n_train=10, n_test=2)
    spec = cifar_spec(100, md5s, [mirror])
    spec["members"]["test"] = ["cifar-100-python/meta"]  # a pickle, but of label names

    with pytest.raises(DatasetFileError, match=r"cifar-100-python.tar.gz, member cifar-100-python/meta: "
                                               r"not a CIFAR batch \(KeyError"):
        prepare_dataset("cifar100", spec, tmp_path / "raw", tmp_path / "out.pt")


WNIDS = ["n02", "n01", "n03"]  # wnids.txt is not sorted; class k is the k-th wnid in sorted order


def test_tiny_imagenet_archive_is_verified_decoded_and_labelled(tmp_path):
    mirror, raw_dir, out = tmp_path / "mirror", tmp_path / "raw", tmp_path / "data" / "tiny.pt"
    md5s, members = write_tiny_imagenet_archive(mirror, WNIDS, train_per_class=4, val_per_class=2)

    prepare_dataset("tinyimagenet", tiny_imagenet_spec(md5s, [mirror]), raw_dir, out)

    dataset = load_dataset(out)
    assert dataset["classes"] == 3
    assert dataset["train_x"].shape == (12, 3, 64, 64) and dataset["test_x"].shape == (6, 3, 64, 64)
    assert dataset["train_x"].dtype == torch.uint8 and dataset["test_y"].dtype == torch.int64
    label_of = {wnid: label for label, wnid in enumerate(sorted(WNIDS))}
    for split in ("train", "test"):  # test: the labelled validation images, in annotation order
        assert dataset[f"{split}_y"].tolist() == [label_of[wnid] for _, wnid in members[split]]
        for image, (member, _) in zip(dataset[f"{split}_x"], members[split]):
            assert torch.equal(image, torch.from_numpy(decoded(mirror / ARCHIVE, member).copy()))
    grey = members["train"].index((f"{ROOT}/train/n01/images/n01_1.JPEG", "n01"))
    assert torch.equal(dataset["train_x"][grey][0], dataset["train_x"][grey][2])  # greyscale became RGB
    assert sorted(p.name for p in raw_dir.iterdir()) == [ARCHIVE]


@pytest.mark.parametrize("broken, message", [
    ({"omit": (f"{ROOT}/val/val_annotations.txt",)}, r"member tiny-imagenet-200/val/val_annotations.txt: no such file"),
    ({"replace": {f"{ROOT}/train/n03/images/n03_2.JPEG": b"not a jpeg"}},
     r"member tiny-imagenet-200/train/n03/images/n03_2.JPEG: not a readable JPEG"),
    ({"replace": {f"{ROOT}/val/val_annotations.txt": b"val_0.JPEG\tn99\t0\t0\t1\t1\n"}},
     r"val_annotations.txt: class 'n99' is not in tiny-imagenet-200/wnids.txt"),
    ({"replace": {f"{ROOT}/val/val_annotations.txt": b"val_0.JPEG n01 0 0 1 1\n"}},
     r"val_annotations.txt line 1: expected <file>\\t<wnid>\\t<box>"),
])
def test_broken_tiny_imagenet_archive_is_a_clear_error(tmp_path, broken, message):
    md5s, _ = write_tiny_imagenet_archive(tmp_path / "mirror", WNIDS, train_per_class=3, val_per_class=1, **broken)

    with pytest.raises(DatasetFileError, match=message):
        prepare_dataset("tinyimagenet", tiny_imagenet_spec(md5s, [tmp_path / "mirror"]), tmp_path / "raw",
                        tmp_path / "out.pt")
    assert not (tmp_path / "out.pt").exists()


def test_tiny_imagenet_without_a_valid_archive_says_where_to_put_it(tmp_path):
    expected, _ = write_tiny_imagenet_archive(tmp_path / "other", WNIDS, train_per_class=1, val_per_class=1, seed=1)
    write_tiny_imagenet_archive(tmp_path / "mirror", WNIDS, train_per_class=1, val_per_class=1, seed=2)

    with pytest.raises(DatasetUnavailable, match=rf"(?s){ARCHIVE}  MD5 {expected[ARCHIVE]}.*"
                                                  r"data\.datasets\.tinyimagenet\.mirrors"):
        prepare_dataset("tinyimagenet", tiny_imagenet_spec(expected, [tmp_path / "mirror"]), tmp_path / "raw",
                        tmp_path / "out.pt")


def test_imagenet32_archives_are_verified_parsed_and_written(tmp_path, capsys):
    mirror, raw_dir, out = tmp_path / "mirror", tmp_path / "raw", tmp_path / "data" / "imagenet32.pt"
    md5s = write_imagenet32_archives(mirror, n_val=5, seed=4)

    prepare_dataset("imagenet32", imagenet32_spec(md5s, [tmp_path / "empty_mirror", mirror]), raw_dir, out)

    batches = make_imagenet32_batches(n_val=5, seed=4)
    dataset = load_dataset(out)
    assert dataset["name"] == "imagenet32" and dataset["classes"] == 1000
    assert dataset["train_x"].shape == (18, 3, 32, 32) and dataset["test_x"].shape == (5, 3, 32, 32)
    assert dataset["train_x"].dtype == torch.uint8 and dataset["train_y"].dtype == torch.int64
    for split, members in (("train", TRAIN_MEMBERS), ("test", [VAL_MEMBER])):  # batches in numeric order
        rows = np.concatenate([batches[member]["data"] for member in members])
        labels = [label for member in members for label in batches[member]["labels"]]
        assert torch.equal(dataset[f"{split}_x"], torch.from_numpy(rows).reshape(-1, 3, 32, 32))
        assert dataset[f"{split}_y"].tolist() == [label - 1 for label in labels]  # one-based -> zero-based
    first_row = batches[TRAIN_MEMBERS[0]]["data"][0]
    assert dataset["train_x"][0, 1, 2, 5] == first_row[1024 + 2 * 32 + 5]  # channel-major: R, G, B planes
    assert dataset["train_y"][0] == 0 and dataset["test_y"][0] == 999
    assert sorted(p.name for p in raw_dir.iterdir()) == sorted(md5s)  # no temporary files left
    assert capsys.readouterr().err.count("images (batch ") == 11  # progress per batch


def test_imagenet32_with_md5s_not_known_is_accepted_once_parsed_and_its_md5s_printed(tmp_path, capsys):
    md5s = write_imagenet32_archives(tmp_path / "mirror")

    prepare_dataset("imagenet32", imagenet32_spec(dict.fromkeys(md5s), [tmp_path / "mirror"]), tmp_path / "raw",
                    tmp_path / "out.pt")

    assert load_dataset(tmp_path / "out.pt")["test_x"].shape == (4, 3, 32, 32)
    err = capsys.readouterr().err
    for archive_name, md5 in md5s.items():
        assert f"{archive_name}: no MD5 pinned; this copy, which parsed, has MD5 {md5}" in err
        assert f"data.datasets.imagenet32.files.{archive_name}" in err


def test_imagenet32_copy_with_md5_not_known_that_does_not_parse_is_a_clear_error(tmp_path):
    md5s = write_imagenet32_archives(tmp_path / "mirror")
    (tmp_path / "mirror" / VAL_ARCHIVE).write_bytes(b"an HTML login page, not a zip")

    with pytest.raises(DatasetFileError, match=rf"{VAL_ARCHIVE} is not a valid \.zip archive.*delete it and rerun"):
        prepare_dataset("imagenet32", imagenet32_spec(dict.fromkeys(md5s), [tmp_path / "mirror"]), tmp_path / "raw",
                        tmp_path / "out.pt")
    assert not (tmp_path / "out.pt").exists()


def test_imagenet32_archive_with_wrong_md5_is_rejected(tmp_path, capsys):
    mirror, raw_dir = tmp_path / "mirror", tmp_path / "raw"
    expected = write_imagenet32_archives(tmp_path / "other", seed=1)
    written = write_imagenet32_archives(mirror, seed=2)
    expected[VAL_ARCHIVE] = written[VAL_ARCHIVE]  # only the training archive is wrong

    with pytest.raises(DatasetUnavailable) as error:
        prepare_dataset("imagenet32", imagenet32_spec(expected, [mirror]), raw_dir, tmp_path / "out.pt")

    message = str(error.value)
    assert f"{TRAIN_ARCHIVE}  MD5 {expected[TRAIN_ARCHIVE]}" in message
    assert VAL_ARCHIVE + "  MD5" not in message  # the valid archive was found
    assert str(raw_dir) in message and str(mirror) in message
    assert "skipping" in capsys.readouterr().err
    assert not (tmp_path / "out.pt").exists()


class RunsCode:
    """Unpickling this calls print: the unpickler must refuse it before it runs."""

    def __reduce__(self):
        return print, ("unpickling ran code",)


@pytest.mark.parametrize("broken, message", [
    ({"omit": ("train_data_batch_7",)}, rf"{TRAIN_ARCHIVE}, member train_data_batch_7: no such file in the archive"),
    ({"replace": {VAL_MEMBER: pickle.dumps([1, 2, 3], protocol=3)}},
     rf"{VAL_ARCHIVE}, member val_data: not an ImageNet32 batch \(TypeError"),
    ({"replace": {"train_data_batch_2": pickle.dumps({"data": np.zeros((2, 3072), np.uint8)}, protocol=3)}},
     rf"{TRAIN_ARCHIVE}, member Imagenet32_train/train_data_batch_2: not an ImageNet32 batch \(KeyError: 'labels'"),
    ({"replace": {VAL_MEMBER: b"not a pickle"}}, rf"{VAL_ARCHIVE}, member val_data: not an ImageNet32 batch"),
    ({"replace": {VAL_MEMBER: pickle.dumps({"data": RunsCode(), "labels": [1]}, protocol=3)}},
     r"member val_data: not an ImageNet32 batch \(UnpicklingError: refusing to load builtins.print"),
    ({"replace": {VAL_MEMBER: pickle.dumps({"data": np.zeros((2, 1024), np.uint8), "labels": [1, 2]}, protocol=3)}},
     r"member val_data: expected uint8 data \[N, 3072\] and N labels, got data \[2, 1024\]"),
    ({"replace": {VAL_MEMBER: pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "labels": [0, 999]}, protocol=3)}},
     r"member val_data: labels outside 1..1000"),  # zero-based labels: not the published files
])
def test_broken_imagenet32_archive_is_a_clear_error_naming_the_file(tmp_path, capsys, broken, message):
    md5s = write_imagenet32_archives(tmp_path / "mirror", **broken)

    with pytest.raises(DatasetFileError, match=message):
        prepare_dataset("imagenet32", imagenet32_spec(md5s, [tmp_path / "mirror"]), tmp_path / "raw",
                        tmp_path / "out.pt")
    assert "unpickling ran code" not in capsys.readouterr().out
    assert not (tmp_path / "out.pt").exists()


def test_imagenet32_without_archives_says_which_files_to_put_where_and_where_to_get_them(tmp_path):
    mirror, raw_dir = tmp_path / "mirror", tmp_path / "raw"

    with pytest.raises(DatasetUnavailable) as error:
        prepare_dataset("imagenet32", imagenet32_spec({TRAIN_ARCHIVE: None, VAL_ARCHIVE: None}, [mirror]), raw_dir,
                        tmp_path / "out.pt")

    message = str(error.value)
    for archive_name in (TRAIN_ARCHIVE, VAL_ARCHIVE):
        assert f"{archive_name}  MD5 not known" in message
    assert f"Put them into {raw_dir} or into a folder listed in the config key data.datasets.imagenet32.mirrors " \
           f"(searched: {mirror})" in message
    assert "https://image-net.org/download-images" in message and "not unzipped" in message


def test_synthetic_data_is_deterministic_with_requested_shapes(tmp_path):
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        prepare_dataset("synthetic", synthetic_spec(seed), tmp_path / "raw", tmp_path / f"{name}.pt")
    a, b, c = (load_dataset(tmp_path / f"{name}.pt") for name in "abc")

    assert a["train_x"].shape == (40, 3, 8, 8) and a["test_x"].shape == (12, 3, 8, 8)
    assert a["train_x"].dtype == torch.uint8 and a["train_y"].dtype == torch.int64
    assert a["classes"] == 4 and set(a["train_y"].tolist()) == {0, 1, 2, 3}
    assert all(torch.equal(a[key], b[key]) for key in ("train_x", "train_y", "test_x", "test_y"))
    assert not torch.equal(a["train_x"], c["train_x"])


def test_synthetic_classes_are_learnable_but_not_trivial():
    spec = {"source": "synthetic", "classes": 10, "train_size": 1000, "test_size": 500, "seed": 0}
    dataset = make_synthetic("synthetic", spec)
    # Nearest class mean on the training set: far above chance, yet single images are noisy.
    train_x, test_x = dataset["train_x"].flatten(1).float(), dataset["test_x"].flatten(1).float()
    means = torch.stack([train_x[dataset["train_y"] == k].mean(0) for k in range(10)])
    accuracy = (torch.cdist(test_x, means).argmin(1) == dataset["test_y"]).float().mean()
    assert accuracy > 0.5
    assert torch.cdist(train_x[:1], train_x[1:]).min() > 0  # no two images are copies


def test_load_dataset_missing_or_corrupt_file_says_to_rerun(tmp_path):
    with pytest.raises(DatasetFileError, match="missing.*rerun the data rule"):
        load_dataset(tmp_path / "absent.pt")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a torch file")
    with pytest.raises(DatasetFileError, match="corrupt.*rerun the data rule"):
        load_dataset(corrupt)


@pytest.mark.skipif(not DEBIAN_FASHION_MNIST.is_dir(), reason="apt-get install dataset-fashion-mnist")
def test_real_fashion_mnist_from_debian_mirror(tmp_path):
    # Debian repacks the archives, so the upstream archive MD5s (torchvision's FashionMNIST.resources)
    # do not match them; the MD5s of the decompressed IDX files (published upstream) do.
    content_md5s = {
        "train-images-idx3-ubyte.gz": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte.gz": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte.gz": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte.gz": "15d484375f8d13e6eb1aabb0c3f46965",
    }
    out = tmp_path / "fashion_mnist.pt"
    prepare_dataset("fashion_mnist", idx_spec(content_md5s, [DEBIAN_FASHION_MNIST]), tmp_path / "raw", out)

    dataset = load_dataset(out)
    assert dataset["train_x"].shape == (60000, 1, 28, 28) and dataset["test_x"].shape == (10000, 1, 28, 28)
    assert dataset["classes"] == 10
    assert torch.bincount(dataset["test_y"]).tolist() == [1000] * 10
