"""Seeded, device-agnostic training and evaluation with the original recipe: cross-entropy,
Adam (lr 1e-3), batch 64, one epoch, running training accuracy per batch (01_train; fine-tuning
in 06_fine_tune)."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from course_utils.data import MnistTensors, batch_count, shuffled_batches

BURN_IN_BATCHES = 20


@dataclass(frozen=True)
class TrainingHistory:
    """Running training accuracy (correct / seen so far), recorded after each batch from
    batch ``BURN_IN_BATCHES`` on, against the number of samples seen."""

    samples_seen: torch.Tensor
    running_accuracy: torch.Tensor

    def final_running_accuracy(self) -> float:
        return float(self.running_accuracy[-1]) if len(self.running_accuracy) else float("nan")


def _adam(model: nn.Module, lr: float) -> torch.optim.Adam:
    """Adam; with torch's fused kernel where it has one for the parameters' device (one pass
    over each parameter per step instead of a dozen elementwise ones; same update rule)."""
    parameters = list(model.parameters())
    fused = all(p.device.type in ("cpu", "cuda") and p.is_floating_point() for p in parameters)
    return torch.optim.Adam(parameters, lr=lr, fused=True if fused else None)


def train(
    model: nn.Module,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    *,
    lr: float = 1e-3,
    total_batches: int | None = None,
    progress: bool = True,
    description: str = "training",
) -> TrainingHistory:
    """Train ``model`` in place for one pass over ``batches`` with Adam and cross-entropy: the
    loop of forward, loss, backward and step written out in 01_train.

    The model's device decides where the work runs; batches are moved there.
    """
    device = next(model.parameters()).device
    optimizer = _adam(model, lr)
    loss_function = nn.CrossEntropyLoss()
    correct_per_batch, size_per_batch = [], []
    model.train()
    bar = tqdm(batches, total=total_batches, desc=description, disable=not progress, leave=True)
    for images, labels in bar:
        images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
        logits = model(images)
        loss = loss_function(logits, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        # kept as tensors, read once at the end: no per-batch device synchronisation
        correct_per_batch.append((logits.detach().argmax(1) == labels).sum())
        size_per_batch.append(len(labels))
    model.eval()
    if not correct_per_batch:
        return TrainingHistory(torch.zeros(0), torch.zeros(0))
    correct = torch.stack(correct_per_batch).cpu().to(torch.float64).cumsum(0)
    seen = torch.tensor(size_per_batch, dtype=torch.float64).cumsum(0)
    keep = slice(min(BURN_IN_BATCHES, len(seen) - 1), None)
    return TrainingHistory(seen[keep].to(torch.int64), (correct / seen)[keep].to(torch.float32))


def train_on_tensors(
    model: nn.Module,
    data: MnistTensors,
    *,
    epochs: int = 1,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    progress: bool = True,
) -> TrainingHistory:
    """Train ``model`` in place on in-memory data (the fast path); one seeded shuffle per epoch.
    Written out in 01_train, which checks that its loop gives bit-identical weights.

    With ``epochs > 1`` one Adam optimizer is kept across epochs, as in a single training run.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs}")
    if batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    device = next(model.parameters()).device
    data = data.to(device)

    def all_batches():
        for epoch in range(epochs):
            yield from shuffled_batches(data, batch_size, seed=seed + epoch)

    return train(
        model,
        all_batches(),
        lr=lr,
        total_batches=epochs * batch_count(len(data), batch_size),
        progress=progress,
    )


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch_size: int = 10_000) -> torch.Tensor:
    """Predicted class of each image, computed in chunks on the model's device."""
    device = next(model.parameters()).device
    model.eval()
    chunks = [
        model(images[start : start + batch_size].to(device)).argmax(1)
        for start in range(0, len(images), batch_size)
    ]
    return torch.cat(chunks)


def accuracy(model: nn.Module, data: MnistTensors) -> float:
    """Fraction of ``data`` that ``model`` classifies correctly (the argmax of its scores equals
    the label); written out in 01_train."""
    predictions = predict(model, data.images)
    return float((predictions == data.labels.to(predictions.device)).float().mean())


def fine_tune(
    model: nn.Module,
    data: MnistTensors,
    samples: int,
    *,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    progress: bool = False,
) -> nn.Module:
    """The training loop written out in 01_train (:func:`train`: Adam, cross-entropy, batches of
    64), applied to a copy of ``model`` for ``samples`` shuffled training examples (06_fine_tune).

    The examples are the first ``samples`` of a permutation seeded with ``seed``, taken in that
    order (several permutations when ``samples`` exceeds the training set); ``samples=0``
    returns an untouched copy. The optimizer starts fresh, as it does in 01_train."""
    if samples < 0:
        raise ValueError(f"samples must be 0 or more, got {samples}")
    tuned = copy.deepcopy(model)
    if samples == 0:
        return tuned
    device = next(tuned.parameters()).device
    data = data.to(device)
    generator = torch.Generator().manual_seed(seed)
    passes = -(-samples // len(data))
    order = torch.cat([torch.randperm(len(data), generator=generator) for _ in range(passes)])
    order = order[:samples].to(data.labels.device)
    chosen = MnistTensors(data.images[order], data.labels[order])
    train(
        tuned,
        shuffled_batches(chosen, batch_size, shuffle=False),
        lr=lr,
        total_batches=batch_count(samples, batch_size),
        progress=progress,
        description=f"fine-tuning on {samples:,} samples",
    )
    return tuned
