"""The trained base model, cached on disk under a name made of every setting that decides it,
so a stale checkpoint is never loaded by mistake (introduced in 01_train)."""

from __future__ import annotations

import pickle
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


class CheckpointMismatchError(ValueError):
    """A checkpoint was made with other settings than the ones asked for."""


@dataclass(frozen=True)
class TrainConfig:
    """Every setting that decides the trained weights (the cache key)."""

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


def _identity(config: TrainConfig, device_type: str) -> dict:
    return {**asdict(config), "device_type": device_type, "torch": str(torch.__version__)}


def save_checkpoint(
    path: Path, model: SimpleNN, history: TrainingHistory, config: TrainConfig, device_type: str
) -> Path:
    """Save weights, history and the settings that made them, atomically."""
    payload = {
        "identity": _identity(config, device_type),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "samples_seen": history.samples_seen,
        "running_accuracy": history.running_accuracy,
    }
    return write_atomically(path, lambda stream: torch.save(payload, stream))


def load_checkpoint(
    path: Path, config: TrainConfig, device: torch.device
) -> tuple[SimpleNN, TrainingHistory]:
    """Load a checkpoint, refusing one whose settings differ from ``config`` on ``device``."""
    payload = torch.load(path, map_location="cpu", weights_only=True)
    expected = _identity(config, device.type)
    found = payload.get("identity", {})
    differences = {k: (found.get(k), v) for k, v in expected.items() if found.get(k) != v}
    if differences:
        listed = ", ".join(
            f"{k}: file has {a!r}, asked for {b!r}" for k, (a, b) in differences.items()
        )
        raise CheckpointMismatchError(f"{path} was made with other settings ({listed})")
    model = SimpleNN(config.hidden_dim)
    model.load_state_dict(payload["state_dict"])
    history = TrainingHistory(payload["samples_seen"], payload["running_accuracy"])
    return model.to(device).eval(), history


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


def base_model(
    config: TrainConfig = TrainConfig(),
    device: torch.device | None = None,
    progress: bool = True,
    retrain: bool = False,
) -> tuple[SimpleNN, TrainingHistory]:
    """The trained base model for ``config``: loaded from the cache, or trained and cached.

    A cached file that cannot be read or was made with other settings is never loaded: it is
    kept under a ``.stale-<time>`` name (nothing is deleted) and the model is retrained.
    """
    device = device or torch.device("cpu")
    path = artifacts_dir() / config.cache_name(device.type)
    if path.exists() and not retrain:
        try:
            return load_checkpoint(path, config, device)
        except (CheckpointMismatchError, pickle.UnpicklingError, RuntimeError, EOFError) as error:
            kept = path.with_name(f"{path.name}.stale-{time.strftime('%Y%m%d-%H%M%S')}")
            path.rename(kept)
            warnings.warn(f"{error}; kept it as {kept.name} and retraining", stacklevel=2)
    model, history = train_base_model(config, device, progress)
    save_checkpoint(path, model, history, config, device.type)
    return model, history
