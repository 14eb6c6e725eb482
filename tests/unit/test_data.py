"""MNIST loading: the facts in data/mnist/README.md, both paths agree, damaged or missing files
are named. Damage is tried on a tiny fake MNIST built in a temporary folder, never on the real
files."""

import gzip
import hashlib
import struct
from pathlib import Path

import pytest
import torch

from course_utils import data
from course_utils.data import MNIST_FILES, load_mnist, mnist_dataset, mnist_files, shuffled_batches
from course_utils.files import DataIntegrityError, read_checksums, sha256_of
from course_utils.paths import data_dir

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
FAKE_COUNTS = {"train": 6, "t10k": 4}


def test_shipped_archives_match_their_published_checksums():
    shipped = data_dir() / "mnist"
    checksums = read_checksums(shipped)
    for name in MNIST_FILES:
        assert sha256_of(shipped / f"{name}.gz") == checksums[f"{name}.gz"], name


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


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def write_fake_mnist(root: Path) -> dict[str, torch.Tensor]:
    """A few compressible 28×28 images per split in idx .gz files, with their SHA256SUMS."""
    generator = torch.Generator().manual_seed(0)
    shipped = root / "mnist"
    shipped.mkdir(parents=True)
    tensors, contents = {}, {}
    for split, count in FAKE_COUNTS.items():
        images = torch.zeros(count, 28, 28, dtype=torch.uint8)
        for index in range(count):
            patch = torch.randint(0, 16, (16, 16), generator=generator, dtype=torch.uint8) * 17
            images[index, 4 + index : 20 + index, 6:22] = patch
        labels = torch.arange(count, dtype=torch.uint8) % 10
        tensors[f"{split}-images"], tensors[f"{split}-labels"] = images, labels
        header = struct.pack(">IIII", 0x803, count, 28, 28)
        contents[f"{split}-images-idx3-ubyte"] = header + images.numpy().tobytes()
        contents[f"{split}-labels-idx1-ubyte"] = struct.pack(">II", 0x801, count) + bytes(labels)
    lines = []
    for name, content in contents.items():
        archive = gzip.compress(content, mtime=0)
        (shipped / f"{name}.gz").write_bytes(archive)
        lines += [f"{_sha256(content)}  {name}", f"{_sha256(archive)}  {name}.gz"]
    (shipped / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    return tensors


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """A fake MNIST under ``COURSE_DATA_DIR``; downloading fails the test."""
    tensors = write_fake_mnist(tmp_path)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    from torchvision.datasets import MNIST

    def refuse(*args, **kwargs):
        raise AssertionError("the loader tried to download MNIST")

    monkeypatch.setattr(MNIST, "download", refuse)
    data._read_split.cache_clear()
    yield tmp_path, tensors
    data._read_split.cache_clear()


def test_both_paths_give_the_fake_pixels_and_labels(fake):
    _, tensors = fake
    fast = load_mnist(False)
    assert torch.equal(fast.images, tensors["t10k-images"].unsqueeze(1).float() / 255)
    assert torch.equal(fast.labels, tensors["t10k-labels"].long())
    classic = mnist_dataset(train=False)
    for index in range(FAKE_COUNTS["t10k"]):
        image, label = classic[index]
        assert torch.equal(image, fast.images[index])
        assert label == fast.labels[index].item()
    assert len(load_mnist(True)) == FAKE_COUNTS["train"]


def _archive(root: Path, index: int = 0) -> Path:
    return root / "mnist" / f"{MNIST_FILES[index]}.gz"


def _flip_byte(archive: Path, position: int) -> None:
    content = bytearray(archive.read_bytes())
    content[position] ^= 0xFF
    archive.write_bytes(bytes(content))


def _pin(root: Path, name: str, content: bytes) -> None:
    """Edit SHA256SUMS so that it pins ``content`` for ``name``."""
    sums = root / "mnist" / "SHA256SUMS"
    pinned = read_checksums(root / "mnist")[name]
    sums.write_text(sums.read_text().replace(pinned, _sha256(content)))


def test_a_flipped_byte_in_an_archive_is_named_with_the_fix(fake):
    root, _ = fake
    _flip_byte(_archive(root), 100)
    with pytest.raises(
        DataIntegrityError, match=r"train-images-idx3-ubyte\.gz has SHA-256.*git checkout"
    ):
        mnist_files(root)
    assert not (root / "torchvision" / "MNIST" / "raw" / MNIST_FILES[0]).exists()


# with SHA256SUMS edited to match, decompression itself must notice: at byte 100 the flip breaks
# the deflate stream (zlib: "invalid distance too far back"), at byte 500 only the CRC check does
@pytest.mark.parametrize("position", [100, 500])
def test_a_damaged_archive_that_its_checksum_misses_fails_to_decompress(fake, position):
    root, _ = fake
    archive = _archive(root)
    _flip_byte(archive, position)
    _pin(root, archive.name, archive.read_bytes())
    with pytest.raises(DataIntegrityError, match=r"idx3-ubyte\.gz is damaged and cannot be decomp"):
        mnist_files(root)
    raw = root / "torchvision" / "MNIST" / "raw"
    assert list(raw.iterdir()) == []  # no half-written file, no temporary left behind


def test_an_archive_missing_from_sha256sums_is_named(fake):
    root, _ = fake
    sums = root / "mnist" / "SHA256SUMS"
    kept = [
        line for line in sums.read_text().splitlines() if "t10k-images-idx3-ubyte.gz" not in line
    ]
    sums.write_text("\n".join(kept) + "\n")
    with pytest.raises(DataIntegrityError, match=r"no checksum for t10k-images-idx3-ubyte\.gz"):
        mnist_files(root)


def test_truncated_archive_is_named_with_both_checksums(fake):
    root, _ = fake
    archive = _archive(root, 3)
    archive.write_bytes(archive.read_bytes()[:30])
    with pytest.raises(DataIntegrityError) as raised:
        mnist_files(root)
    message = str(raised.value)
    assert "t10k-labels-idx1-ubyte.gz" in message
    assert read_checksums(root / "mnist")["t10k-labels-idx1-ubyte.gz"] in message
    assert sha256_of(archive) in message
    assert "git checkout -- data/mnist/" in message


def test_an_archive_of_the_wrong_content_is_caught_after_decompression(fake):
    root, _ = fake
    archive = _archive(root, 3)
    wrong = gzip.compress(b"not the labels", mtime=0)
    archive.write_bytes(wrong)
    _pin(root, archive.name, wrong)
    with pytest.raises(DataIntegrityError, match=r"t10k-labels-idx1-ubyte\.gz decompresses to"):
        mnist_files(root)
    raw = root / "torchvision" / "MNIST" / "raw"
    assert sorted(path.name for path in raw.iterdir()) == sorted(MNIST_FILES[:3])


@pytest.mark.parametrize("missing", [f"{MNIST_FILES[2]}.gz", "SHA256SUMS"])
def test_a_missing_file_is_named_and_nothing_is_downloaded(fake, missing):
    root, _ = fake
    (root / "mnist" / missing).unlink()
    with pytest.raises(FileNotFoundError, match=rf"{missing}.*git checkout -- data/mnist/"):
        mnist_files(root)


def test_damaged_decompressed_file_is_reported_and_never_replaced(fake):
    root, _ = fake
    raw = mnist_files(root) / MNIST_FILES[1]
    raw.write_bytes(b"not mnist")
    with pytest.raises(DataIntegrityError, match=f"{MNIST_FILES[1]} has SHA-256"):
        mnist_files(root)
    assert raw.read_bytes() == b"not mnist"


def test_verified_files_are_reused(fake):
    root, _ = fake
    raw = mnist_files(root) / MNIST_FILES[3]
    stamp = raw.stat().st_mtime_ns
    mnist_files(root)
    assert raw.stat().st_mtime_ns == stamp


def test_shuffled_batches_cover_every_example_once_and_are_seeded():
    labels = torch.arange(1_000)
    tensors = data.MnistTensors(torch.zeros(1_000, 1, 28, 28), labels)
    batches = list(shuffled_batches(tensors, batch_size=64, seed=3))
    assert [len(batch) for _, batch in batches] == [64] * 15 + [40]
    seen = torch.cat([batch for _, batch in batches])
    assert torch.equal(torch.sort(seen).values, labels)
    assert not torch.equal(seen, labels)
    again = torch.cat([batch for _, batch in shuffled_batches(tensors, 64, seed=3)])
    assert torch.equal(seen, again)


def test_subset_rejects_counts_outside_the_split():
    tensors = data.MnistTensors(torch.zeros(10, 1, 28, 28), torch.zeros(10, dtype=torch.int64))
    with pytest.raises(ValueError, match="between 0 and 10"):
        tensors.subset(11)


@pytest.mark.parametrize("device", [None, "cpu"])
def test_an_in_place_edit_never_reaches_the_next_load(fake, device):
    # the trap: a cached split handed out twice, so `images.sub_(mean)` in one cell (or `.to()`,
    # which on the same device returns the same tensors) changes every later load in the kernel
    first = load_mnist(False) if device is None else load_mnist(False).to(device)
    pristine_images, pristine_labels = first.images.clone(), first.labels.clone()
    first.images.sub_(0.5)
    first.labels.add_(1)
    again = load_mnist(False)
    assert torch.equal(again.images, pristine_images)
    assert torch.equal(again.labels, pristine_labels)
