"""The trained base model, saved once and loaded after (introduced in 01_train): a checkpoint is
``torch.save`` of the weights beside the settings that made them (its identity), and it is used
only when those settings are today's."""

from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from course_utils.data import load_mnist
from course_utils.files import write_atomically
from course_utils.models import SimpleNN
from course_utils.paths import artifacts_dir
from course_utils.training import TrainingHistory, train_on_tensors


@dataclass(frozen=True)
class TrainConfig:
    """Every setting that decides the trained weights."""

    seed: int = 0
    hidden_dim: int = 500
    epochs: int = 1
    batch_size: int = 64
    lr: float = 1e-3

    def cache_name(self, device_type: str) -> str:
        return (
            f"simplenn-h{self.hidden_dim}-e{self.epochs}-b{self.batch_size}-lr{self.lr:g}"
            f"-seed{self.seed}-{device_type}.pt"
        )


def base_model(
    config: TrainConfig = TrainConfig(),
    device: torch.device | None = None,
    progress: bool = True,
    retrain: bool = False,
) -> tuple[SimpleNN, TrainingHistory]:
    """The base model trained with ``config`` on ``device``, and its training history.

    Loaded from ``artifacts/<config.cache_name>`` when the settings saved there (``config``,
    device type, torch version) are today's; otherwise trained and saved (atomically). A file
    under that name with other settings, or one that cannot be read, is never used and never
    overwritten: it is renamed ``<name>.stale-<time>``, with a warning saying why.
    """
    device = device or torch.device("cpu")
    path = artifacts_dir() / config.cache_name(device.type)
    identity = {**asdict(config), "device_type": device.type, "torch": str(torch.__version__)}
    saved = _read_checkpoint(path) if path.exists() else None
    if saved is not None and saved["identity"] == identity and not retrain:
        model = SimpleNN(config.hidden_dim)
        model.load_state_dict(saved["state_dict"])
        history = TrainingHistory(saved["samples_seen"], saved["running_accuracy"])
        return model.to(device).eval(), history
    if path.exists() and (saved is None or saved["identity"] != identity):
        why = _differences(saved["identity"], identity) if saved else "it cannot be read"
        kept = _keep_aside(path)
        warnings.warn(f"{path} not used ({why}); kept it as {kept.name}, retraining", stacklevel=2)
    model, history = train_base_model(config, device, progress)
    checkpoint = {
        "identity": identity,
        "state_dict": {name: value.detach().cpu() for name, value in model.state_dict().items()},
        "samples_seen": history.samples_seen,
        "running_accuracy": history.running_accuracy,
    }
    write_atomically(path, lambda stream: torch.save(checkpoint, stream))
    return model, history


def train_base_model(
    config: TrainConfig = TrainConfig(), device: torch.device | None = None, progress: bool = True
) -> tuple[SimpleNN, TrainingHistory]:
    """Train SimpleNN from scratch with ``config`` (seeded) and return it with its history; the
    training loop is written out in 01_train."""
    device = device or torch.device("cpu")
    torch.manual_seed(config.seed)
    model = SimpleNN(config.hidden_dim).to(device)
    history = train_on_tensors(
        model,
        load_mnist(train=True),
        epochs=config.epochs,
        batch_size=config.batch_size,
        lr=config.lr,
        seed=config.seed,
        progress=progress,
    )
    return model, history


def _read_checkpoint(path: Path) -> dict | None:
    """The checkpoint saved at ``path``, or None if it is not one this module saved."""
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # garbage makes torch.load raise almost anything (IndexError, ...)
        return None
    return saved if isinstance(saved, dict) and "identity" in saved else None


def _keep_aside(path: Path) -> Path:
    """Rename ``path`` to the first free ``<name>.stale-<time>[-n]``: nothing is replaced."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    kept, count = path.with_name(f"{path.name}.stale-{stamp}"), 1
    while kept.exists():
        kept, count = path.with_name(f"{path.name}.stale-{stamp}-{count}"), count + 1
    return path.rename(kept)


def _differences(found: dict, wanted: dict) -> str:
    return ", ".join(
        f"{key}: file has {found.get(key)!r}, asked for {value!r}"
        for key, value in wanted.items()
        if found.get(key) != value
    )
