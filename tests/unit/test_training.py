"""Training is deterministic for a seed, records running accuracy, fine-tunes copies. The trained
model is the one tests/conftest.py trains once per session; only the determinism test trains
again."""

import pytest
import torch

from course_utils.data import load_mnist
from course_utils.models import SimpleNN
from course_utils.training import BURN_IN_BATCHES, accuracy, fine_tune, train_on_tensors
from tests.conftest import train_small_model


def test_training_on_a_slice_is_deterministic_for_a_seed(trained_run):
    shared = trained_run()
    again = train_small_model()  # the same settings, trained anew
    for a, b in zip(shared.model.parameters(), again.model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert torch.equal(shared.history.running_accuracy, again.history.running_accuracy)
    other = train_small_model(seed=1)
    assert not torch.equal(shared.model.fc1.weight, other.model.fc1.weight)
    assert not torch.equal(shared.history.running_accuracy, other.history.running_accuracy)


def test_history_starts_after_the_burn_in_and_counts_samples(trained_run):
    history = trained_run().history  # 6,400 images in batches of 64: 100 batches
    assert len(history.samples_seen) == 100 - BURN_IN_BATCHES
    assert history.samples_seen[0].item() == 64 * (BURN_IN_BATCHES + 1)
    assert history.samples_seen[-1].item() == 6_400
    assert torch.all((history.running_accuracy >= 0) & (history.running_accuracy <= 1))


def test_a_short_run_learns_something(small_trained_model):
    # 0.815-0.836 over seeds 0-2 (measured); chance is 0.1
    assert accuracy(small_trained_model, load_mnist(False).subset(2_000)) > 0.7


def test_fine_tune_returns_a_trained_copy_and_zero_samples_is_a_plain_copy(small_trained_model):
    model = small_trained_model
    before = model.fc1.weight.detach().clone()
    untouched = fine_tune(model, load_mnist(True), 0)
    assert untouched is not model and torch.equal(untouched.fc1.weight, model.fc1.weight)
    assert untouched.fc1.weight.data_ptr() != model.fc1.weight.data_ptr(), "not a copy"
    tuned = fine_tune(model, load_mnist(True), 256, seed=1)
    assert not torch.equal(tuned.fc1.weight, model.fc1.weight)
    assert torch.equal(model.fc1.weight, before), "fine-tuning changed the original"


def test_bad_training_arguments_are_refused():
    with pytest.raises(ValueError, match="epochs"):
        train_on_tensors(SimpleNN(8), load_mnist(True).subset(64), epochs=0)
    with pytest.raises(ValueError, match="samples"):
        fine_tune(SimpleNN(8), load_mnist(True), -1)
    with pytest.raises(ValueError, match="hidden_dim"):
        SimpleNN(0)
