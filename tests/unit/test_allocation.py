"""allocation: uniform, equal-ratio and greedy ranks under one budget, break-even handling."""

import itertools

import pytest
import torch

from course_utils.accounting import break_even_rank
from course_utils.allocation import (
    DENSE,
    Allocation,
    equal_ratio_allocation,
    greedy_allocation,
    uniform_allocation,
    weight_cost,
)


def spectra(seed: int = 0) -> tuple[dict[str, torch.Tensor], dict[str, tuple[int, int]]]:
    generator = torch.Generator().manual_seed(seed)
    shapes = {"square": (6, 6), "wide": (4, 12), "tall": (10, 5)}
    energies = {
        name: torch.rand(min(shape), generator=generator, dtype=torch.float64)
        .sort(descending=True)
        .values
        for name, shape in shapes.items()
    }
    return energies, shapes


def brute_force_best(energies, shapes, budget) -> float:
    """The smallest loss over every choice of ranks (1 … break-even, or dense) that fits."""
    options = {
        name: [*range(1, break_even_rank(*shape) + 1), DENSE] for name, shape in shapes.items()
    }
    best = float("inf")
    for choice in itertools.product(*options.values()):
        ranks = dict(zip(options, choice, strict=True))
        if sum(weight_cost(shapes[n], r) for n, r in ranks.items()) <= budget:
            loss = sum(
                0.0 if r == DENSE else float(energies[n][r:].sum()) for n, r in ranks.items()
            )
            best = min(best, loss)
    return best


def test_weight_cost_counts_factors_or_the_dense_matrix():
    assert weight_cost((384, 1536), 10) == 10 * 1920
    assert weight_cost((384, 1536), DENSE) == 384 * 1536


def test_uniform_allocation_takes_the_largest_rank_that_fits():
    energies, shapes = spectra()  # rank k costs k·(12 + 16 + 15) = 43·k
    assert set(uniform_allocation(energies, shapes, 85).ranks.values()) == {1}
    allocation = uniform_allocation(energies, shapes, 86)
    assert allocation.ranks == dict.fromkeys(shapes, 2) and allocation.weights == 86
    assert allocation.loss == pytest.approx(sum(float(e[2:].sum()) for e in energies.values()))


def test_uniform_rank_fits_and_the_next_does_not():
    energies, shapes = spectra()
    for budget in (43, 60, 86, 100, 130):
        allocation = uniform_allocation(energies, shapes, budget)
        assert allocation.weights <= budget
        rank = max(allocation.ranks.values())
        bigger = {
            name: rank + 1 if rank + 1 <= break_even_rank(*shape) else DENSE
            for name, shape in shapes.items()
        }
        assert sum(weight_cost(shapes[n], r) for n, r in bigger.items()) > budget


def test_uniform_rank_leaves_matrices_past_break_even_dense():
    energies, shapes = spectra()
    allocation = uniform_allocation(energies, shapes, 10_000)
    assert allocation.ranks == dict.fromkeys(shapes, DENSE)
    assert allocation.loss == 0.0
    assert allocation.weights == sum(m * n for m, n in shapes.values())


def test_equal_ratio_gives_every_matrix_the_same_share_of_its_weights():
    shapes = {"square": (384, 384), "in": (1536, 384), "out": (384, 1536)}
    energies = {name: torch.ones(min(shape), dtype=torch.float64) for name, shape in shapes.items()}
    total = sum(m * n for m, n in shapes.values())  # 147,456 + 2 · 589,824 = 1,327,104
    allocation = equal_ratio_allocation(energies, shapes, total // 2)
    # half of 384·384 over 768 is rank 96; half of 1536·384 over 1920 is 153.6, so rank 153
    assert allocation.ranks == {"square": 96, "in": 153, "out": 153}
    assert allocation.weights == 96 * 768 + 2 * 153 * 1920 <= total // 2
    assert allocation.loss == pytest.approx((384 - 96) + 2 * (384 - 153))


def test_equal_ratio_is_dense_at_a_full_budget_and_refuses_too_small_ones():
    energies, shapes = spectra()
    total = sum(m * n for m, n in shapes.values())
    assert equal_ratio_allocation(energies, shapes, total).ranks == dict.fromkeys(shapes, DENSE)
    assert equal_ratio_allocation(energies, shapes, total - 1).dense() == []
    with pytest.raises(ValueError, match="rank 1"):
        equal_ratio_allocation(energies, shapes, 42)


def test_greedy_stays_within_budget_and_is_close_to_the_best():
    energies, shapes = spectra()
    for budget in range(43, 140, 7):
        allocation = greedy_allocation(energies, shapes, budget)
        assert isinstance(allocation, Allocation)
        assert allocation.weights <= budget
        assert allocation.weights == sum(
            weight_cost(shapes[n], r) for n, r in allocation.ranks.items()
        )
        best = brute_force_best(energies, shapes, budget)
        assert allocation.loss <= best + 0.6 * max(float(e[1]) for e in energies.values())


def test_greedy_beats_uniform_when_spectra_decay_differently():
    # Greedy is not optimal on tiny, lumpy problems, but with many ranks per matrix and
    # spectra that decay at different speeds it should lose less than one rank for all.
    shapes = {"fast": (40, 40), "slow": (40, 80), "medium": (60, 30)}
    energies = {
        name: torch.arange(1, min(shape) + 1, dtype=torch.float64) ** -power
        for (name, shape), power in zip(shapes.items(), (3.0, 0.5, 1.0), strict=True)
    }
    for budget in range(500, 3000, 250):
        greedy = greedy_allocation(energies, shapes, budget)
        uniform = uniform_allocation(energies, shapes, budget)
        assert greedy.loss < uniform.loss
        assert greedy.ranks["slow"] > greedy.ranks["fast"] or greedy.ranks["slow"] == DENSE


def test_greedy_feeds_the_matrix_whose_ranks_buy_most():
    shapes = {"flat": (8, 8), "steep": (8, 8)}
    energies = {
        "flat": torch.full((8,), 1.0, dtype=torch.float64),
        "steep": torch.tensor([100.0, 50, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01]),
    }
    allocation = greedy_allocation(energies, shapes, 4 * 16)
    assert allocation.ranks == {"flat": 2, "steep": 2}
    assert greedy_allocation(energies, shapes, 5 * 16).ranks == {"flat": 3, "steep": 2}


def test_greedy_goes_dense_at_break_even_and_reports_factorized_only():
    shapes = {"a": (4, 4), "b": (4, 4)}  # break-even rank 1: rank 2 would cost 16 = dense
    energies = {"a": torch.tensor([4.0, 3, 2, 1]), "b": torch.tensor([1.0, 0.1, 0.1, 0.1])}
    allocation = greedy_allocation(energies, shapes, 16 + 8)
    assert allocation.ranks == {"a": DENSE, "b": 1}
    assert allocation.factorized() == {"b": 1} and allocation.dense() == ["a"]
    assert allocation.loss == pytest.approx(0.3)


def test_budgets_too_small_and_mismatched_inputs_are_refused():
    energies, shapes = spectra()
    with pytest.raises(ValueError, match="rank 1"):
        greedy_allocation(energies, shapes, 42)
    with pytest.raises(ValueError, match="rank 1"):
        uniform_allocation(energies, shapes, 42)
    with pytest.raises(ValueError, match="same matrices"):
        greedy_allocation({"square": energies["square"]}, shapes, 100)
    with pytest.raises(ValueError, match="squared singular values"):
        greedy_allocation({**energies, "wide": torch.ones(3)}, shapes, 100)
