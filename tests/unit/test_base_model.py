"""The saved base model: one file per setting, saved atomically, used only when its settings are
today's, and no file under its name ever overwritten or deleted."""

import dataclasses

import pytest
import torch

from course_utils import base_model as cache
from course_utils.base_model import TrainConfig, base_model
from course_utils.models import SimpleNN
from course_utils.training import TrainingHistory

CPU = torch.device("cpu")


@pytest.fixture
def artifacts(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_ARTIFACTS_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def fake_training(monkeypatch):
    """Training replaced by a seeded random model; the list records each call's config."""
    calls = []

    def train(config, device, progress):
        calls.append(config)
        torch.manual_seed(config.seed + 100 * len(calls))  # each training gives new weights
        history = TrainingHistory(torch.arange(3), torch.rand(3))
        return SimpleNN(config.hidden_dim).to(device), history

    monkeypatch.setattr(cache, "train_base_model", train)
    return calls


def test_changing_any_setting_changes_the_file_name():
    default = TrainConfig()
    for field in dataclasses.fields(TrainConfig):
        changed = dataclasses.replace(default, **{field.name: getattr(default, field.name) + 1})
        assert changed.cache_name("cpu") != default.cache_name("cpu"), field.name
    assert default.cache_name("cpu") != default.cache_name("cuda")


def test_first_call_trains_and_saves_second_call_loads(artifacts, fake_training):
    config = TrainConfig(hidden_dim=16)
    model, history = base_model(config, CPU)
    assert [path.name for path in artifacts.iterdir()] == [config.cache_name("cpu")]  # no .tmp
    loaded, loaded_history = base_model(config, CPU)
    assert len(fake_training) == 1
    assert not loaded.training
    for name, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], value), name
    assert torch.equal(loaded_history.running_accuracy, history.running_accuracy)


def test_other_settings_train_their_own_model(artifacts, fake_training):
    base_model(TrainConfig(hidden_dim=16), CPU)
    base_model(TrainConfig(hidden_dim=16, seed=1), CPU)
    base_model(TrainConfig(hidden_dim=16), CPU)
    assert [config.seed for config in fake_training] == [0, 1]


def _stale(artifacts, config: TrainConfig, **other) -> bytes:
    """Put a checkpoint made with other settings under ``config``'s file name."""
    base_model(dataclasses.replace(config, **other), CPU, progress=False)
    made = artifacts / dataclasses.replace(config, **other).cache_name("cpu")
    made.rename(artifacts / config.cache_name("cpu"))
    return (artifacts / config.cache_name("cpu")).read_bytes()


@pytest.mark.parametrize("retrain", [False, True])
def test_a_checkpoint_with_other_settings_is_kept_aside_and_never_used(
    artifacts, fake_training, retrain
):
    config = TrainConfig(hidden_dim=16)
    before = _stale(artifacts, config, lr=0.5)
    with pytest.warns(UserWarning, match=r"lr: file has 0\.5, asked for 0\.001.*retraining"):
        model, _ = base_model(config, CPU, retrain=retrain)
    assert [call.lr for call in fake_training] == [0.5, 0.001]
    kept = [path for path in artifacts.iterdir() if ".stale-" in path.name]
    assert len(kept) == 1 and kept[0].read_bytes() == before
    loaded, _ = base_model(config, CPU)  # the new file is today's: loaded, not retrained
    assert len(fake_training) == 2
    assert torch.equal(loaded.fc1.weight, model.fc1.weight)


def test_a_checkpoint_from_another_torch_version_is_not_used(artifacts, fake_training, monkeypatch):
    config = TrainConfig(hidden_dim=16)
    base_model(config, CPU)
    monkeypatch.setattr(torch, "__version__", "0.0.1")
    with pytest.warns(UserWarning, match=r"torch: file has '.*', asked for '0\.0\.1'"):
        base_model(config, CPU)
    assert len(fake_training) == 2


@pytest.mark.parametrize("content", [b"not a checkpoint", None])
def test_an_unreadable_or_foreign_file_is_kept_aside_and_retrained(
    artifacts, fake_training, content
):
    config = TrainConfig(hidden_dim=16)
    path = artifacts / config.cache_name("cpu")
    if content is None:  # a plain state_dict someone saved under this name
        torch.save(SimpleNN(16).state_dict(), path)
    else:
        path.write_bytes(content)
    before = path.read_bytes()
    with pytest.warns(UserWarning, match="cannot be read"):
        base_model(config, CPU)
    assert len(fake_training) == 1
    assert [p.read_bytes() for p in artifacts.iterdir() if ".stale-" in p.name] == [before]


def test_stale_files_kept_in_the_same_second_do_not_replace_each_other(
    artifacts, fake_training, monkeypatch
):
    monkeypatch.setattr(cache.time, "strftime", lambda form: "20260101-000000")
    config = TrainConfig(hidden_dim=16)
    path = artifacts / config.cache_name("cpu")
    for content in (b"first", b"second"):
        path.unlink(missing_ok=True)
        path.write_bytes(content)
        with pytest.warns(UserWarning):
            base_model(config, CPU)
    kept = sorted(p.read_bytes() for p in artifacts.iterdir() if ".stale-" in p.name)
    assert kept == [b"first", b"second"]


def test_retrain_replaces_a_checkpoint_of_the_same_settings(artifacts, fake_training):
    config = TrainConfig(hidden_dim=16)
    base_model(config, CPU)
    retrained, _ = base_model(config, CPU, retrain=True)
    assert len(fake_training) == 2
    assert [path.name for path in artifacts.iterdir()] == [config.cache_name("cpu")]
    assert torch.equal(base_model(config, CPU)[0].fc1.weight, retrained.fc1.weight)


def test_an_interrupted_save_leaves_the_old_checkpoint(artifacts, fake_training, monkeypatch):
    config = TrainConfig(hidden_dim=16)
    base_model(config, CPU)
    before = (artifacts / config.cache_name("cpu")).read_bytes()

    def interrupted(checkpoint, stream):
        stream.write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        base_model(config, CPU, retrain=True)
    assert [path.name for path in artifacts.iterdir()] == [config.cache_name("cpu")]
    assert (artifacts / config.cache_name("cpu")).read_bytes() == before
