"""MNIST loading: the facts in data/mnist/README.md, both paths agree, damaged files are named."""

import gzip
import shutil

import pytest
import torch

from course_utils.data import (
    MNIST_FILES,
    DataIntegrityError,
    load_mnist,
    mnist_dataset,
    prepare_mnist,
    shuffled_batches,
)
from course_utils.paths import data_dir

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_shapes_labels_and_class_counts():
    train, test = load_mnist(True), load_mnist(False)
    assert tuple(train.images.shape) == (60_000, 1, 28, 28)
    assert tuple(test.images.shape) == (10_000, 1, 28, 28)
    assert train.images.dtype == torch.float32 and train.labels.dtype == torch.int64
    assert train.labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert test.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert torch.bincount(train.labels).tolist() == TRAIN_COUNTS
    assert torch.bincount(test.labels).tolist() == TEST_COUNTS


def test_training_pixels_are_in_unit_range_with_the_known_mean_and_std():
    images = load_mnist(True).images
    assert images.min().item() == 0.0 and images.max().item() == 1.0
    assert images.mean().item() == pytest.approx(0.1307, abs=5e-5)
    assert images.std().item() == pytest.approx(0.3081, abs=5e-5)


def test_classic_to_tensor_path_gives_the_same_pixels_and_labels():
    dataset = mnist_dataset(train=False)
    fast = load_mnist(False)
    for index in (0, 1, 4_321, 9_999):
        image, label = dataset[index]
        assert torch.equal(image, fast.images[index])
        assert label == fast.labels[index].item()


def test_shuffled_batches_cover_every_example_once_and_are_seeded():
    data = load_mnist(False).subset(1_000)
    batches = list(shuffled_batches(data, batch_size=64, seed=3))
    assert [len(labels) for _, labels in batches] == [64] * 15 + [40]
    seen = torch.cat([labels for _, labels in batches])
    assert torch.equal(torch.sort(seen).values, torch.sort(data.labels).values)
    again = torch.cat([labels for _, labels in shuffled_batches(data, 64, seed=3)])
    assert torch.equal(seen, again)


def _copy_shipped(tmp_path):
    shipped = tmp_path / "mnist"
    shutil.copytree(data_dir() / "mnist", shipped)
    return shipped


def test_truncated_archive_is_named_with_both_checksums(tmp_path):
    shipped = _copy_shipped(tmp_path)
    archive = shipped / "t10k-labels-idx1-ubyte.gz"
    archive.write_bytes(archive.read_bytes()[:2_000])
    with pytest.raises(DataIntegrityError, match=r"t10k-labels-idx1-ubyte\.gz.*git checkout"):
        prepare_mnist(tmp_path)


def test_corrupt_archive_reports_expected_and_found_checksums(tmp_path):
    shipped = _copy_shipped(tmp_path)
    archive = shipped / "t10k-labels-idx1-ubyte.gz"
    content = bytearray(gzip.decompress(archive.read_bytes()))
    content[100] ^= 0xFF
    archive.write_bytes(gzip.compress(bytes(content)))
    with pytest.raises(DataIntegrityError) as raised:
        prepare_mnist(tmp_path)
    message = str(raised.value)
    assert "t10k-labels-idx1-ubyte.gz" in message
    assert "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2" in message
    assert "git checkout -- data/mnist/" in message


def test_damaged_decompressed_file_is_reported_and_never_replaced(tmp_path):
    _copy_shipped(tmp_path)
    root = prepare_mnist(tmp_path)
    raw = root / "MNIST" / "raw" / MNIST_FILES[1]
    raw.write_bytes(b"not mnist")
    with pytest.raises(DataIntegrityError, match=f"{MNIST_FILES[1]} has SHA-256"):
        prepare_mnist(tmp_path)
    assert raw.read_bytes() == b"not mnist"


def test_verified_files_are_reused(tmp_path):
    _copy_shipped(tmp_path)
    raw = prepare_mnist(tmp_path) / "MNIST" / "raw" / MNIST_FILES[3]
    stamp = raw.stat().st_mtime_ns
    prepare_mnist(tmp_path)
    assert raw.stat().st_mtime_ns == stamp


def test_subset_rejects_counts_outside_the_split():
    with pytest.raises(ValueError, match="between 0 and 10000"):
        load_mnist(False).subset(10_001)
