"""Exact mathematics of the SVD helpers: Eckart–Young, explained variance, bad input."""

import pytest
import torch

from course_utils.svd import (
    decompose,
    explained_variance,
    low_rank_approximation,
    numerical_rank,
    rank_for_variance,
    singular_values,
)


@pytest.fixture
def matrix() -> torch.Tensor:
    return torch.randn(50, 80, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


@pytest.mark.parametrize("rank", [1, 5, 20, 49])
def test_eckart_young_error_norms(matrix, rank):
    sigma = singular_values(matrix)
    error = matrix - low_rank_approximation(matrix, rank)
    assert torch.allclose(torch.linalg.norm(error, "fro") ** 2, (sigma[rank:] ** 2).sum())
    assert torch.allclose(torch.linalg.matrix_norm(error, 2), sigma[rank])


def test_full_rank_reconstructs_the_matrix(matrix):
    assert torch.allclose(low_rank_approximation(matrix, 50), matrix)


@pytest.mark.parametrize("rank", [1, 3, 10])
def test_random_rank_k_matrices_never_beat_the_truncation(matrix, rank):
    best = torch.linalg.norm(matrix - low_rank_approximation(matrix, rank))
    generator = torch.Generator().manual_seed(1)
    for _ in range(200):
        left = torch.randn(50, rank, generator=generator, dtype=torch.float64)
        right = torch.randn(rank, 80, generator=generator, dtype=torch.float64)
        # the best scaling of a random rank-k candidate, to give it a fair chance
        candidate = left @ right
        scale = (candidate * matrix).sum() / (candidate * candidate).sum()
        assert torch.linalg.norm(matrix - scale * candidate) >= best


def test_factors_have_the_shapes_the_original_prints():
    weight = torch.randn(500, 784)
    U, S, Vh = decompose(weight).factors(10)
    assert (tuple(U.shape), tuple(S.shape), tuple(Vh.shape)) == ((500, 10), (10, 10), (10, 784))
    assert torch.allclose(U @ S @ Vh, low_rank_approximation(weight, 10), atol=1e-5)


def test_decompose_keeps_float32_and_orders_singular_values():
    decomposition = decompose(torch.randn(30, 20))
    assert decomposition.U.dtype == torch.float32
    values = decomposition.singular_values
    assert torch.all(values[:-1] >= values[1:])


def test_explained_variance_uses_squares_grows_and_ends_at_one():
    sigma = torch.tensor([3.0, 2.0, 1.0])
    cumulative = explained_variance(sigma)
    assert torch.allclose(cumulative, torch.tensor([9 / 14, 13 / 14, 1.0], dtype=torch.float64))
    random_sigma = singular_values(torch.randn(40, 60))
    curve = explained_variance(random_sigma)
    assert torch.all(curve[1:] >= curve[:-1])
    assert curve[-1].item() == pytest.approx(1.0)


@pytest.mark.parametrize(
    "sigma",
    [
        torch.zeros(5),
        torch.zeros(0),
        torch.tensor([1.0, float("nan")]),
        torch.tensor([float("inf")]),
    ],
)
def test_a_spectrum_without_a_finite_nonzero_energy_is_refused(sigma):
    with pytest.raises(ValueError, match="finite, non-zero total"):
        explained_variance(sigma)
    with pytest.raises(ValueError, match="finite, non-zero total"):
        rank_for_variance(sigma, 0.9)


def test_rank_for_variance_is_the_smallest_rank_reaching_the_target():
    sigma = torch.tensor([3.0, 2.0, 1.0])
    assert rank_for_variance(sigma, 0.5) == 1
    assert rank_for_variance(sigma, 9 / 14) == 1
    assert rank_for_variance(sigma, 0.65) == 2
    assert rank_for_variance(sigma, 1.0) == 3


@pytest.mark.parametrize("target", [0, -0.1, 1.01, 2])
def test_rank_for_variance_rejects_targets_outside_zero_one(target):
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        rank_for_variance(torch.tensor([1.0]), target)


@pytest.mark.parametrize("rank", [0, -1, 51, 2.5, True])
def test_bad_ranks_name_the_valid_range(matrix, rank):
    with pytest.raises(ValueError, match="from 1 to 50"):
        low_rank_approximation(matrix, rank)


@pytest.mark.parametrize("shape", [(10,), (2, 3, 4), ()])
def test_non_matrices_are_rejected(shape):
    with pytest.raises(ValueError, match="2-D"):
        singular_values(torch.ones(shape))
    with pytest.raises(ValueError, match="2-D"):
        decompose(torch.ones(shape))


def _with(value: float) -> torch.Tensor:
    matrix = torch.ones(4, 3)
    matrix[1, 2] = value
    return matrix


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        (_with(float("inf")), r"1 infinite.*finite"),
        (_with(float("nan")), r"1 NaN.*finite"),
        (torch.ones(0, 3), r"empty.*\(0, 3\).*at least one row and one column"),
        (torch.ones(4, 0), r"empty.*\(4, 0\)"),
        (torch.ones(4, 3, dtype=torch.int64), r"floating-point.*torch\.int64.*\.float\(\)"),
        (torch.ones(4, 3, dtype=torch.bool), r"floating-point.*torch\.bool"),
        ([[1.0, 2.0]], r"2-D.*list"),
    ],
)
def test_unusable_matrices_are_rejected_with_the_fix(matrix, message):
    for function in (decompose, singular_values):
        with pytest.raises(ValueError, match=message):
            function(matrix)


def test_numerical_rank_counts_directions_above_tolerance():
    low = torch.randn(60, 4) @ torch.randn(4, 70)
    assert numerical_rank(low) == 4
    assert numerical_rank(torch.randn(60, 70)) == 60
