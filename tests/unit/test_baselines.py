"""baselines: magnitude pruning to an exact number of non-zeros, and same-size networks."""

import copy

import pytest
import torch

from course_utils.accounting import count_parameters
from course_utils.baselines import (
    bottleneck_mlp,
    make_pruning_permanent,
    mlp_parameters,
    nonzero_weights,
    prune_to_nonzeros,
    same_size_mlp,
    train_tracking_accuracy,
)
from course_utils.compress import FactorizedLinear, factorize_layer
from course_utils.data import MnistTensors
from course_utils.models import SimpleNN
from course_utils.training import fine_tune, train_on_tensors


@pytest.fixture
def random_digits() -> MnistTensors:
    generator = torch.Generator().manual_seed(1)
    images = torch.rand(256, 1, 28, 28, generator=generator)
    return MnistTensors(images, torch.randint(0, 10, (256,), generator=generator))


@pytest.mark.parametrize("nonzeros", [0, 1, 12_840, 391_999, 392_000])
def test_pruning_keeps_exactly_the_requested_number_of_weights(model, nonzeros):
    pruned = prune_to_nonzeros(model, "fc1", nonzeros)
    assert nonzero_weights(pruned, "fc1") == nonzeros


def test_pruning_keeps_the_largest_weights_and_copies_everything_else(model):
    pruned = prune_to_nonzeros(model, "fc1", 5_000)
    kept = pruned.fc1.weight != 0
    magnitudes = model.fc1.weight.abs()
    assert magnitudes[kept].min() >= magnitudes[~kept].max()
    assert torch.equal(pruned.fc1.weight[kept], model.fc1.weight[kept])
    assert torch.equal(pruned.fc1.bias, model.fc1.bias)
    assert torch.equal(pruned.fc2.weight, model.fc2.weight)
    assert torch.equal(pruned.fc2.bias, model.fc2.bias)


def test_pruning_returns_a_new_model_and_leaves_the_original_untouched(model):
    before = {name: value.clone() for name, value in model.state_dict().items()}
    pruned = prune_to_nonzeros(model, "fc1", 100)
    assert pruned is not model
    assert before.keys() == model.state_dict().keys()
    assert all(torch.equal(before[name], value) for name, value in model.state_dict().items())
    assert nonzero_weights(model, "fc1") == 392_000


def test_permanent_pruning_leaves_an_ordinary_model(model):
    pruned = prune_to_nonzeros(model, "fc1", 100)
    assert set(pruned.state_dict()) == set(model.state_dict())
    assert isinstance(pruned.fc1.weight, torch.nn.Parameter)
    assert not pruned.fc1._forward_pre_hooks
    assert count_parameters(pruned) == count_parameters(model)
    assert nonzero_weights(copy.deepcopy(pruned), "fc1") == 100


def test_a_kept_mask_survives_fine_tuning(model, random_digits):
    masked = prune_to_nonzeros(model, "fc1", 2_000, permanent=False)
    assert "weight_mask" in dict(masked.fc1.named_buffers())
    zeros = masked.fc1.weight == 0
    tuned = fine_tune(masked, random_digits, 256, seed=0)
    permanent = make_pruning_permanent(tuned)
    assert not permanent.fc1._forward_pre_hooks
    assert torch.all(permanent.fc1.weight[zeros] == 0)
    assert nonzero_weights(permanent, "fc1") == 2_000
    assert not torch.equal(permanent.fc2.weight, model.fc2.weight)  # training did happen
    assert "weight_orig" in dict(tuned.fc1.named_parameters())  # the tuned copy keeps its mask
    images = random_digits.images[:8]
    assert torch.allclose(permanent(images), tuned(images), atol=1e-6)


def test_bad_pruning_requests_are_refused(model):
    with pytest.raises(ValueError, match="from 0 to 392000"):
        prune_to_nonzeros(model, "fc1", 392_001)
    with pytest.raises(ValueError, match="from 0 to 392000"):
        prune_to_nonzeros(model, "fc1", -1)
    with pytest.raises(TypeError, match="integer"):
        prune_to_nonzeros(model, "fc1", 0.5)
    with pytest.raises(KeyError, match="fc3"):
        prune_to_nonzeros(model, "fc3", 10)


@pytest.mark.parametrize("hidden_dim", [1, 11, 500])
def test_mlp_parameters_matches_the_model(hidden_dim):
    assert mlp_parameters(hidden_dim) == count_parameters(SimpleNN(hidden_dim))


def test_mlp_parameters_of_the_course_model():
    assert mlp_parameters(500) == 397_510


@pytest.mark.parametrize("budget", [805, 806, 9_362, 24_770, 397_510, 397_509])
def test_same_size_mlp_is_the_widest_that_fits(budget):
    model = same_size_mlp(budget)
    assert count_parameters(model) <= budget
    assert mlp_parameters(model.hidden_dim + 1) > budget


def test_too_small_a_budget_is_refused():
    with pytest.raises(ValueError, match="at least 805"):
        same_size_mlp(804)


@pytest.mark.parametrize("rank", [1, 10, 153])
def test_bottleneck_mlp_matches_the_factorized_model(model, rank):
    torch.manual_seed(0)
    scratch = bottleneck_mlp(rank)
    factorized = factorize_layer(model, "fc1", rank)
    assert isinstance(scratch.fc1, FactorizedLinear)
    assert count_parameters(scratch) == count_parameters(factorized) == rank * 1284 + 5_510
    shapes = {name: value.shape for name, value in scratch.state_dict().items()}
    assert shapes == {name: value.shape for name, value in factorized.state_dict().items()}
    assert scratch(torch.rand(4, 1, 28, 28)).shape == (4, 10)


def test_bottleneck_mlp_starts_from_random_weights():
    torch.manual_seed(0)
    first = bottleneck_mlp(10)
    torch.manual_seed(1)
    second = bottleneck_mlp(10)
    torch.manual_seed(0)
    again = bottleneck_mlp(10)
    assert not torch.equal(first.fc1.project.weight, second.fc1.project.weight)
    assert torch.equal(first.fc1.project.weight, again.fc1.project.weight)


def test_tracking_accuracy_trains_exactly_like_train_on_tensors(random_digits):
    torch.manual_seed(3)
    tracked = same_size_mlp(20_000)
    reference = copy.deepcopy(tracked)
    held_out = MnistTensors(random_digits.images[:100], random_digits.labels[:100])
    accuracies = train_tracking_accuracy(tracked, random_digits, held_out, epochs=3, seed=5)
    train_on_tensors(reference, random_digits, epochs=3, seed=5, progress=False)
    for name, value in reference.state_dict().items():
        assert torch.equal(tracked.state_dict()[name], value), f"{name} differs"
    assert len(accuracies) == 3 and all(0 <= value <= 1 for value in accuracies)
    with pytest.raises(ValueError, match="positive"):
        train_tracking_accuracy(tracked, random_digits, held_out, epochs=0)
