"""Training is deterministic for a seed, records running accuracy, fine-tunes copies."""

import pytest
import torch

from course_utils.data import load_mnist
from course_utils.models import SimpleNN
from course_utils.training import BURN_IN_BATCHES, accuracy, fine_tune, train_on_tensors


def small_run(seed: int) -> tuple[SimpleNN, object]:
    torch.manual_seed(seed)
    model = SimpleNN(hidden_dim=32)
    history = train_on_tensors(model, load_mnist(True).subset(3_200), seed=seed, progress=False)
    return model, history


def test_training_on_a_slice_is_deterministic_for_a_seed():
    first, history = small_run(0)
    second, again = small_run(0)
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(a, b)
    assert torch.equal(history.running_accuracy, again.running_accuracy)
    third, _ = small_run(1)
    assert not torch.equal(first.fc1.weight, third.fc1.weight)


def test_history_starts_after_the_burn_in_and_counts_samples():
    _, history = small_run(0)
    assert len(history.samples_seen) == 50 - BURN_IN_BATCHES
    assert history.samples_seen[0].item() == 64 * (BURN_IN_BATCHES + 1)
    assert history.samples_seen[-1].item() == 3_200
    assert torch.all((history.running_accuracy >= 0) & (history.running_accuracy <= 1))


def test_a_short_run_learns_something():
    model, _ = small_run(0)
    assert accuracy(model, load_mnist(False).subset(2_000)) > 0.6


def test_fine_tune_returns_a_trained_copy_and_zero_samples_is_a_plain_copy():
    model, _ = small_run(0)
    untouched = fine_tune(model, load_mnist(True), 0)
    assert untouched is not model and torch.equal(untouched.fc1.weight, model.fc1.weight)
    tuned = fine_tune(model, load_mnist(True), 256, seed=1)
    assert not torch.equal(tuned.fc1.weight, model.fc1.weight)


def test_bad_training_arguments_are_refused():
    with pytest.raises(ValueError, match="epochs"):
        train_on_tensors(SimpleNN(8), load_mnist(True).subset(64), epochs=0)
    with pytest.raises(ValueError, match="samples"):
        fine_tune(SimpleNN(8), load_mnist(True), -1)
    with pytest.raises(ValueError, match="hidden_dim"):
        SimpleNN(0)
