"""MNIST without a network (introduced in 01_train): ``load_mnist`` holds a whole split in
memory as tensors (the fast path), ``mnist_loader`` is the classic ``DataLoader`` +
``ToTensor()`` path. Both read the files shipped in data/mnist/, checked against their published
checksums and decompressed once."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from course_utils.files import unpack_verified
from course_utils.paths import data_dir

MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
RESTORE_HINT = "restore the shipped copy with `git checkout -- data/mnist/`"


@dataclass(frozen=True)
class MnistTensors:
    """One MNIST split held in memory: images (N, 1, 28, 28) float32 in [0, 1], labels int64."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)

    def to(self, device: torch.device | str) -> MnistTensors:
        """Both tensors on ``device`` (like ``Tensor.to``: the same tensors if already there)."""
        return MnistTensors(self.images.to(device), self.labels.to(device))

    def subset(self, count: int) -> MnistTensors:
        """The first ``count`` examples."""
        if not 0 <= count <= len(self):
            raise ValueError(f"count must be between 0 and {len(self)}, got {count}")
        return MnistTensors(self.images[:count], self.labels[:count])


def load_mnist(train: bool = True, device: torch.device | str = "cpu") -> MnistTensors:
    """The training (or test) split as tensors; the same pixels as ``ToTensor()``.

    Every call returns new tensors, copied from the split read once per process, so an edit in
    place (``images.sub_(mean)``) never reaches the next call.
    """
    images, labels = _read_split(train)
    return MnistTensors(images.to(device, copy=True), labels.to(device, copy=True))


@lru_cache(maxsize=2)
def _read_split(train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    folder = mnist_files()  # checked against SHA256SUMS, decompressed on first use
    prefix = "train" if train else "t10k"
    images = _read_idx(folder / f"{prefix}-images-idx3-ubyte")  # (N, 28, 28) uint8
    labels = _read_idx(folder / f"{prefix}-labels-idx1-ubyte")  # (N,) uint8
    return images.unsqueeze(1).to(torch.float32).div_(255), labels.to(torch.int64)


def _read_idx(path: Path) -> torch.Tensor:
    """An IDX file, MNIST's format: a 4-byte magic number whose last byte is the number of
    dimensions, one big-endian uint32 per dimension, then the uint8 values."""
    content = path.read_bytes()
    dims = content[3]
    shape = struct.unpack(f">{dims}I", content[4 : 4 + 4 * dims])
    return torch.frombuffer(bytearray(content[4 + 4 * dims :]), dtype=torch.uint8).reshape(shape)


def mnist_files(root: Path | None = None) -> Path:
    """The folder of the four decompressed MNIST files (``<root>/torchvision/MNIST/raw``, where
    torchvision looks), made from ``<root>/mnist/`` and verified by ``unpack_verified``."""
    root = Path(root) if root is not None else data_dir()
    folder = root / "torchvision" / "MNIST" / "raw"
    unpack_verified(root / "mnist", MNIST_FILES, folder, RESTORE_HINT)
    return folder


def mnist_dataset(train: bool = True):
    """The classic dataset: PIL images turned into [0, 1] tensors by ``ToTensor()``
    (torchvision imported here: it is slow to import)."""
    from torchvision import datasets, transforms

    root = mnist_files().parents[1]
    return datasets.MNIST(str(root), train=train, download=False, transform=transforms.ToTensor())


def mnist_loader(train: bool = True, batch_size: int = 64, seed: int = 0) -> DataLoader:
    """The original recipe's loader: training set shuffled (seeded), test set in order."""
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(
        mnist_dataset(train), batch_size=batch_size, shuffle=train, generator=generator
    )


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
