"""The cached base model: keyed by its settings, saved atomically, never loaded when stale."""

import pytest
import torch

from course_utils import base_model as cache
from course_utils.base_model import (
    CheckpointMismatchError,
    TrainConfig,
    base_model,
    load_checkpoint,
    save_checkpoint,
)
from course_utils.models import SimpleNN
from course_utils.training import TrainingHistory

CPU = torch.device("cpu")


@pytest.fixture
def artifacts(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_ARTIFACTS_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def fake_training(monkeypatch):
    calls = []

    def train(config, device, progress):
        calls.append(config)
        torch.manual_seed(config.seed)
        return SimpleNN(config.hidden_dim), TrainingHistory(torch.arange(3), torch.rand(3))

    monkeypatch.setattr(cache, "train_base_model", train)
    return calls


def test_cache_name_holds_every_setting():
    name = TrainConfig(seed=3, hidden_dim=200, epochs=2, batch_size=32, lr=0.01).cache_name("cpu")
    assert name == "simplenn-h200-e2-b32-lr0.01-seed3-cpu.pt"


def test_first_call_trains_and_saves_second_call_loads(artifacts, fake_training):
    config = TrainConfig(hidden_dim=16)
    model, _ = base_model(config, CPU)
    assert len(fake_training) == 1
    assert (artifacts / config.cache_name("cpu")).exists()
    loaded, _ = base_model(config, CPU)
    assert len(fake_training) == 1
    assert torch.equal(loaded.fc1.weight, model.fc1.weight)


def test_other_settings_retrain(artifacts, fake_training):
    base_model(TrainConfig(hidden_dim=16), CPU)
    base_model(TrainConfig(hidden_dim=16, seed=1), CPU)
    assert len(fake_training) == 2


def test_a_checkpoint_with_other_settings_is_refused_by_name(artifacts):
    path = artifacts / "model.pt"
    save_checkpoint(
        path,
        SimpleNN(16),
        TrainingHistory(torch.arange(2), torch.rand(2)),
        TrainConfig(hidden_dim=16),
        "cpu",
    )
    with pytest.raises(CheckpointMismatchError, match="hidden_dim: file has 16, asked for 500"):
        load_checkpoint(path, TrainConfig(), CPU)


def test_a_mismatched_cache_file_is_kept_aside_and_retrained(artifacts, fake_training):
    config = TrainConfig(hidden_dim=16)
    path = artifacts / config.cache_name("cpu")
    save_checkpoint(
        path,
        SimpleNN(16),
        TrainingHistory(torch.arange(2), torch.rand(2)),
        TrainConfig(hidden_dim=16, lr=0.5),
        "cpu",
    )
    before = path.read_bytes()
    with pytest.warns(UserWarning, match="retraining"):
        base_model(config, CPU)
    assert len(fake_training) == 1
    kept = [p for p in artifacts.iterdir() if ".stale-" in p.name]
    assert len(kept) == 1 and kept[0].read_bytes() == before
    load_checkpoint(path, config, CPU)


def test_an_unreadable_cache_file_is_kept_aside_and_retrained(artifacts, fake_training):
    config = TrainConfig(hidden_dim=16)
    path = artifacts / config.cache_name("cpu")
    path.write_bytes(b"not a checkpoint")
    with pytest.warns(UserWarning, match="retraining"):
        base_model(config, CPU)
    assert len(fake_training) == 1
    assert [p.read_bytes() for p in artifacts.iterdir() if ".stale-" in p.name] == [
        b"not a checkpoint"
    ]


def test_saving_leaves_no_temporary_files(artifacts):
    save_checkpoint(
        artifacts / "m.pt",
        SimpleNN(8),
        TrainingHistory(torch.arange(1), torch.rand(1)),
        TrainConfig(hidden_dim=8),
        "cpu",
    )
    assert [p.name for p in artifacts.iterdir()] == ["m.pt"]
