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
    rank_for_budget,
    svd_break_even_rank,
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
    assert round(100 * svd_storage(500, 784, 10) / dense_weight_count(500, 784), 2) == 3.30
    assert folded_storage(500, 784, 10) == 12_840
    assert factorized_layer_parameters(500, 784, 10) == 12_840 + 500
    assert factorized_layer_parameters(500, 784, 10, bias=False) == 12_840


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


@pytest.mark.parametrize("rank", [0, 501, -1, 10.0, 2.5, True])
def test_accounting_rejects_impossible_ranks(rank):
    for formula in (svd_storage, folded_storage, factorized_layer_parameters):
        with pytest.raises(ValueError, match="integer from 1 to 500"):
            formula(500, 784, rank)


@pytest.mark.parametrize("rows", [0, -5, 500.0, 499.5, True])
def test_accounting_rejects_dimensions_that_are_not_positive_integers(rows):
    for formula in (dense_weight_count, break_even_rank, dense_multiply_adds):
        with pytest.raises(ValueError, match="integers from 1 upwards"):
            formula(rows, 784)
    with pytest.raises(ValueError, match="integers from 1 upwards"):
        svd_storage(784, rows, 1)
    with pytest.raises(ValueError, match="integers from 1 upwards"):
        rank_for_budget((rows, 784), 0.5)


def test_accounting_counts_every_parameter_even_frozen_ones():
    model = SimpleNN()
    model.fc1.requires_grad_(False)
    assert count_parameters(model) == 397_510


def test_rank_for_budget_is_the_largest_rank_within_the_budget():
    for rows, columns in [(1536, 384), (384, 384), (500, 784)]:
        for budget in (0.25, 0.5, 0.75, 1.0):
            rank = rank_for_budget((rows, columns), budget)
            assert folded_storage(rows, columns, rank) <= budget * rows * columns
            assert (rank + 1) * (rows + columns) > budget * rows * columns
    assert rank_for_budget((1536, 384), 0.5) == 153
    assert rank_for_budget((384, 384), 0.5) == 96
    assert rank_for_budget(torch.Size([500, 784]), 1.0) == break_even_rank(500, 784)
    assert rank_for_budget((10, 10), 100.0) == 10
    assert rank_for_budget((10, 10), 0.01) == 1


@pytest.mark.parametrize("budget", [0.0, -0.5, float("nan"), float("inf"), True, "half"])
def test_rank_for_budget_rejects_budgets_that_are_not_positive_fractions(budget):
    with pytest.raises(ValueError, match="budget must be a positive, finite fraction"):
        rank_for_budget((10, 10), budget)


def test_the_original_layout_breaks_even_earlier_than_the_folded_one() -> None:
    assert svd_break_even_rank(500, 784) == 254 < break_even_rank(500, 784) == 305
    assert svd_storage(500, 784, 254) < 392_000 <= svd_storage(500, 784, 255)
    assert svd_break_even_rank(1, 1) == 0  # 1 + 1 + 1 numbers never beat one
