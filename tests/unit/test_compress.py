"""compress: new models, every other parameter copied, factorized layer equal to the truncation."""

import copy

import pytest
import torch
from torch import nn

from course_utils.compress import (
    FactorizedLinear,
    factorize_layer,
    factorize_layers,
    linear_layer,
    linear_layer_names,
    truncate_layer,
)
from course_utils.svd import decompose, low_rank_approximation


def test_truncate_layer_replaces_only_fc1_weight(model):
    compressed = truncate_layer(model, "fc1", 10)
    assert compressed is not model
    assert torch.equal(compressed.fc1.bias, model.fc1.bias)
    assert torch.equal(compressed.fc2.weight, model.fc2.weight)
    assert torch.equal(compressed.fc2.bias, model.fc2.bias)
    assert torch.allclose(compressed.fc1.weight, low_rank_approximation(model.fc1.weight, 10))
    assert compressed.fc1.weight.shape == model.fc1.weight.shape


def test_truncate_layer_leaves_the_original_untouched(model):
    before = {k: v.clone() for k, v in model.state_dict().items()}
    truncate_layer(model, "fc1", 3)
    factorize_layer(model, "fc1", 3)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("rank", [1, 10, 250, 500])
def test_factorized_model_computes_the_rank_k_model(model, rank):
    images = torch.rand(32, 1, 28, 28)
    same_shape = truncate_layer(model, "fc1", rank)
    factorized = factorize_layer(model, "fc1", rank)
    assert isinstance(factorized.fc1, FactorizedLinear)
    assert torch.allclose(factorized(images), same_shape(images), atol=1e-4)
    assert torch.equal(factorized.fc1.expand.bias, model.fc1.bias)
    assert factorized.fc1.project.bias is None
    assert torch.allclose(factorized.fc1.dense_weight(), same_shape.fc1.weight, atol=1e-5)


def test_unknown_layer_names_list_the_linear_layers(model):
    with pytest.raises(KeyError, match=r"\['fc1', 'fc2'\]"):
        truncate_layer(model, "fc3", 10)


def test_non_linear_layers_are_refused():
    network = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(1352, 4))
    with pytest.raises(TypeError, match=r"not nn\.Linear"):
        linear_layer(network, "0")


@pytest.mark.parametrize("rank", [0, 501, -3, 10.0, True])
def test_bad_rank_is_refused_before_copying(model, rank, monkeypatch):
    def no_copy(*args):
        raise AssertionError("the model was copied before the rank was checked")

    monkeypatch.setattr(copy, "deepcopy", no_copy)
    with pytest.raises(ValueError, match="from 1 to 500"):
        factorize_layer(model, "fc1", rank)
    with pytest.raises(ValueError, match="from 1 to 500"):
        truncate_layer(model, "fc1", rank)
    with pytest.raises(ValueError, match="from 1 to 500"):
        factorize_layers(model, {"fc2": 5, "fc1": rank}, lambda name, layer, k: nn.Identity())
    with pytest.raises(ValueError, match="from 1 to 500"):
        FactorizedLinear.from_linear(model.fc1, rank)
    with pytest.raises(ValueError, match="from 1 to 500"):
        FactorizedLinear(784, 500, rank)


def test_a_decomposition_of_another_matrix_is_refused(model):
    with pytest.raises(ValueError, match=r"decomposition is of a 10×500 matrix.*500×784"):
        FactorizedLinear.from_linear(model.fc1, 5, decompose(model.fc2.weight))
    given = FactorizedLinear.from_linear(model.fc1, 5, decompose(model.fc1.weight))
    computed = FactorizedLinear.from_linear(model.fc1, 5)
    assert torch.allclose(given.dense_weight(), computed.dense_weight(), atol=1e-6)


def test_factors_of_a_rank_above_the_layer_are_refused():
    with pytest.raises(ValueError, match="from 1 to 4"):
        FactorizedLinear.from_factors(nn.Linear(6, 4), torch.randn(4, 5), torch.randn(5, 6))


def test_factorize_layers_handles_nested_modules():
    torch.manual_seed(0)
    network = nn.Sequential(nn.Linear(20, 30), nn.ReLU(), nn.Sequential(nn.Linear(30, 8)))
    names = linear_layer_names(network)
    assert names == ["0", "2.0"]
    compressed = factorize_layers(network, {"0": 20, "2.0": 8})
    inputs = torch.randn(5, 20)
    assert torch.allclose(compressed(inputs), network(inputs), atol=1e-5)
    assert isinstance(compressed[2][0], FactorizedLinear)
    assert linear_layer_names(network, include=lambda name: name.startswith("2")) == ["2.0"]
