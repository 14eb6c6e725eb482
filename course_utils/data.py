"""MNIST without a network: verified decompression of the shipped files, the classic
``DataLoader`` + ``ToTensor()`` path and a fast in-memory path (introduced in 01_train)."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from course_utils.files import write_atomically
from course_utils.paths import data_dir

MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
RESTORE_HINT = "restore the shipped copy with `git checkout -- data/mnist/`"


class DataIntegrityError(RuntimeError):
    """A data file is damaged: its checksum is not the published one."""


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def expected_checksums(shipped: Path) -> dict[str, str]:
    """The pinned SHA-256 of each ``.gz`` file and of its decompressed copy (``SHA256SUMS``)."""
    sums = {}
    for line in (shipped / "SHA256SUMS").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            checksum, name = line.split()
            sums[name] = checksum
    return sums


def _check_shipped_files_exist(shipped: Path) -> None:
    needed = ["SHA256SUMS", *(f"{name}.gz" for name in MNIST_FILES)]
    missing = [name for name in needed if not (shipped / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{shipped} lacks {', '.join(missing)}; the course never downloads MNIST: "
            f"{RESTORE_HINT}."
        )


def _pinned(checksums: dict[str, str], name: str, shipped: Path) -> str:
    if name not in checksums:
        raise DataIntegrityError(
            f"{shipped / 'SHA256SUMS'} has no checksum for {name}; {RESTORE_HINT}."
        )
    return checksums[name]


def _decompress(source: Path, target: Path, checksum: str) -> None:
    found = sha256_of(source)
    if found != checksum:
        raise DataIntegrityError(
            f"{source} has SHA-256 {found}, expected {checksum}: the file is corrupt or "
            f"truncated; {RESTORE_HINT}."
        )

    def copy(stream) -> None:
        try:
            with gzip.open(source, "rb") as compressed:
                shutil.copyfileobj(compressed, stream)
        except (OSError, EOFError, zlib.error) as error:
            raise DataIntegrityError(
                f"{source} is damaged and cannot be decompressed ({error}); {RESTORE_HINT}."
            ) from error

    write_atomically(target, copy)


def prepare_mnist(root: Path | None = None) -> Path:
    """Decompress the shipped MNIST into ``<root>/torchvision/MNIST/raw`` and verify it (01_train).

    Returns the root to hand to ``torchvision.datasets.MNIST``. Every ``.gz`` file is checked
    against ``SHA256SUMS`` before it is decompressed and every decompressed file after; a
    mismatch raises :class:`DataIntegrityError` naming the file, both checksums and the fix. A
    missing shipped file raises ``FileNotFoundError``: nothing is ever downloaded. Existing files
    are never deleted or overwritten.
    """
    root = Path(root) if root is not None else data_dir()
    shipped = root / "mnist"
    torchvision_root = root / "torchvision"
    raw = torchvision_root / "MNIST" / "raw"
    _check_shipped_files_exist(shipped)
    checksums = expected_checksums(shipped)
    for name in MNIST_FILES:
        target = raw / name
        made_now = not target.exists()
        if made_now:
            archive = shipped / f"{name}.gz"
            _decompress(archive, target, _pinned(checksums, archive.name, shipped))
        found, expected = sha256_of(target), _pinned(checksums, name, shipped)
        if found != expected:
            if made_now:
                target.unlink()  # our own copy of a damaged archive: nothing of the user's
                raise DataIntegrityError(
                    f"{shipped / (name + '.gz')} decompresses to SHA-256 {found}, expected "
                    f"{expected}: the file is corrupt or truncated; {RESTORE_HINT}."
                )
            raise DataIntegrityError(
                f"{target} has SHA-256 {found}, expected {expected}: the file is corrupt "
                f"or truncated. Delete it and it is decompressed again from data/mnist/ (if that "
                f"copy is damaged too, {RESTORE_HINT}); the loader never replaces files itself."
            )
    return torchvision_root


def torchvision_mnist(root: Path, train: bool, transform=None):
    """``torchvision.datasets.MNIST`` over ``root``, never downloading (imported lazily:
    torchvision is slow)."""
    from torchvision import datasets

    return datasets.MNIST(str(root), train=train, download=False, transform=transform)


def mnist_dataset(train: bool = True):
    """The classic dataset: PIL images turned into [0, 1] tensors by ``ToTensor()``."""
    from torchvision import transforms

    return torchvision_mnist(prepare_mnist(), train=train, transform=transforms.ToTensor())


def mnist_loader(train: bool = True, batch_size: int = 64, seed: int = 0) -> DataLoader:
    """The original recipe's loader: training set shuffled (seeded), test set in order."""
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(
        mnist_dataset(train), batch_size=batch_size, shuffle=train, generator=generator
    )


@dataclass(frozen=True)
class MnistTensors:
    """One MNIST split held in memory: images (N, 1, 28, 28) float32 in [0, 1], labels int64."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)

    def to(self, device: torch.device | str) -> MnistTensors:
        return MnistTensors(self.images.to(device), self.labels.to(device))

    def subset(self, count: int) -> MnistTensors:
        """The first ``count`` examples."""
        if not 0 <= count <= len(self):
            raise ValueError(f"count must be between 0 and {len(self)}, got {count}")
        return MnistTensors(self.images[:count], self.labels[:count])


@lru_cache(maxsize=2)
def _load_split(train: bool) -> MnistTensors:
    dataset = torchvision_mnist(prepare_mnist(), train=train)
    images = dataset.data.unsqueeze(1).to(torch.float32).div_(255)
    return MnistTensors(images, dataset.targets.clone())


def load_mnist(train: bool = True, device: torch.device | str = "cpu") -> MnistTensors:
    """The whole split as tensors (the fast path); same pixels as ``ToTensor()``.

    The CPU copy is cached for the process: treat the returned tensors as read-only.
    """
    return _load_split(train).to(device)


SHUFFLE_CHUNK_BATCHES = 128


def shuffled_batches(
    data: MnistTensors, batch_size: int = 64, seed: int = 0, shuffle: bool = True
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield ``(images, labels)`` mini-batches, shuffled with a seeded permutation."""
    if batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    count = len(data)
    if not shuffle:
        for start in range(0, count, batch_size):
            yield data.images[start : start + batch_size], data.labels[start : start + batch_size]
        return
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
    order = order.to(data.labels.device)
    # Gathered a chunk of batches at a time: a short fine-tune copies only the first chunk, not
    # the whole training set, while each batch stays a view into one large copy (a fresh small
    # tensor per batch costs the training loop more than the copy saves).
    chunk = batch_size * SHUFFLE_CHUNK_BATCHES
    for chunk_start in range(0, count, chunk):
        picked = order[chunk_start : chunk_start + chunk]
        images, labels = data.images[picked], data.labels[picked]
        for start in range(0, len(picked), batch_size):
            yield images[start : start + batch_size], labels[start : start + batch_size]


def batch_count(samples: int, batch_size: int) -> int:
    """Number of mini-batches one pass over ``samples`` examples takes."""
    return -(-samples // batch_size)
