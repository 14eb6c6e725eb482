"""Parameter and storage formulas, checked against the numbers the course quotes."""

import pytest
import torch

from course_utils.accounting import (
    break_even_rank,
    checkpoint_bytes,
    count_parameters,
    dense_multiply_adds,
    dense_weight_count,
    factorized_layer_parameters,
    factorized_multiply_adds,
    folded_storage,
    parameter_bytes,
    svd_storage,
)
from course_utils.compress import factorize_layer
from course_utils.models import SimpleNN


def test_simple_nn_has_397510_parameters_and_fc1_holds_392000_weights():
    model = SimpleNN()
    assert count_parameters(model) == 397_510
    assert model.fc1.weight.numel() == dense_weight_count(500, 784) == 392_000


def test_storage_at_rank_10_matches_the_original_post():
    assert svd_storage(500, 784, 10) == 5_000 + 100 + 7_840 == 12_940
    assert round(100 * 12_940 / 392_000, 2) == 3.30
    assert folded_storage(500, 784, 10) == 12_840
    assert factorized_layer_parameters(500, 784, 10) == 12_840 + 500


@pytest.mark.parametrize("rank", [1, 10, 100, 305, 500])
def test_factorized_layer_formula_matches_a_real_layer(rank):
    compressed = factorize_layer(SimpleNN(), "fc1", rank)
    fc1_parameters = count_parameters(compressed.fc1)
    assert fc1_parameters == factorized_layer_parameters(500, 784, rank) == rank * 1284 + 500


def test_break_even_rank_is_the_last_rank_that_saves():
    k = break_even_rank(500, 784)
    assert k == 305
    assert folded_storage(500, 784, k) < 392_000 <= folded_storage(500, 784, k + 1)
    assert factorized_multiply_adds(500, 784, k) < dense_multiply_adds(500, 784)


def test_bytes_of_parameters_and_checkpoints():
    model = SimpleNN()
    assert parameter_bytes(model) == 4 * 397_510
    assert checkpoint_bytes(model) > parameter_bytes(model)
    assert checkpoint_bytes(factorize_layer(model, "fc1", 10)) < checkpoint_bytes(model) / 10


@pytest.mark.parametrize("rank", [0, 501])
def test_accounting_rejects_impossible_ranks(rank):
    with pytest.raises(ValueError, match="from 1 to 500"):
        svd_storage(500, 784, rank)


def test_accounting_counts_every_parameter_even_frozen_ones():
    model = SimpleNN()
    model.fc1.weight.requires_grad_(False)
    assert count_parameters(model) == 397_510
    assert torch.is_tensor(model.fc1.weight)
