"""Parameter and storage formulas, checked against the numbers the course quotes."""

import pytest
import torch

from course_utils.accounting import (
    bitmask_bytes,
    break_even_rank,
    checkpoint_bytes,
    count_parameters,
    csr_bytes,
    dense_bytes,
    dense_multiply_adds,
    dense_weight_count,
    factor_bytes,
    factorized_layer_parameters,
    factorized_multiply_adds,
    folded_storage,
    largest_fitting,
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


# Bytes of each storage format (10_bytes_not_parameters)


def test_dense_and_factor_bytes_of_fc1():
    assert dense_bytes(500, 784) == 1_568_000
    assert dense_bytes(500, 784, 16) == 784_000
    assert dense_bytes(500, 784, 8) == 500 * (784 + 2)
    assert dense_bytes(500, 784, 4, scale_bytes=4) == 500 * (392 + 4)
    assert factor_bytes(500, 784, 10) == 4 * 10 * 1284
    assert factor_bytes(500, 784, 10, 16) == 2 * 10 * 1284
    # int8 factors: 500×10 with 500 scales, 10×784 with 10 scales
    assert factor_bytes(500, 784, 10, 8) == 500 * (10 + 2) + 10 * (784 + 2)


def test_csr_and_bitmask_bytes_of_a_known_mask():
    # a 3×4 mask with 5 kept entries: [[1,0,0,1],[0,0,0,0],[1,1,0,1]]
    mask = torch.tensor([[1, 0, 0, 1], [0, 0, 0, 0], [1, 1, 0, 1]], dtype=torch.bool)
    nonzeros = int(mask.sum())
    row_offsets = [0, *mask.sum(1).cumsum(0).tolist()]
    assert nonzeros == 5 and row_offsets == [0, 2, 2, 5]
    # float32 values 5·4, int32 column indices 5·4, row offsets (3+1)·4
    assert csr_bytes(3, 4, nonzeros) == 20 + 20 + 16 == 56
    # int8 values: 5 bytes, plus one float16 scale per row
    assert csr_bytes(3, 4, nonzeros, 8) == 5 + 3 * 2 + 20 + 16
    # 12 entries: 2 bytes of mask, then the values
    assert bitmask_bytes(3, 4, nonzeros) == 2 + 20
    assert bitmask_bytes(3, 4, nonzeros, 8) == 2 + 5 + 6
    assert bitmask_bytes(500, 784, 0) == 49_000


def test_largest_fitting_finds_the_last_size_in_budget_and_names_the_smallest():
    def size(rank):
        return factor_bytes(500, 784, rank)

    assert largest_fitting(size, 500, 15_680, "rank") == 3  # 3·1284·4 = 15,408 ≤ 15,680
    assert largest_fitting(size, 500, 10**9, "rank") == 500
    with pytest.raises(ValueError, match="at least 5,136 bytes"):
        largest_fitting(size, 500, 5_000, "rank-1 factors")


@pytest.mark.parametrize("bits", [1, 9, 12, 64, True])
def test_byte_counts_refuse_impossible_value_bits(bits):
    with pytest.raises(ValueError, match="32, 16 or an integer from 2 to 8"):
        dense_bytes(5, 5, bits)
    with pytest.raises(ValueError, match="32, 16 or an integer from 2 to 8"):
        csr_bytes(5, 5, 3, bits)


@pytest.mark.parametrize("nonzeros", [-1, 26, 2.0])
def test_byte_counts_refuse_impossible_nonzeros(nonzeros):
    with pytest.raises(ValueError, match="from 0 to 25"):
        csr_bytes(5, 5, nonzeros)
    with pytest.raises(ValueError, match="from 0 to 25"):
        bitmask_bytes(5, 5, nonzeros)
