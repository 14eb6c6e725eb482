"""A global parameter budget shared among many matrices: which matrix gets how many ranks
(introduced in 13_transformer_budget).

Truncating an m×n matrix to rank k costs ``k·(m + n)`` numbers and leaves a loss equal to the
sum of its dropped squared singular values (the output error on calibration inputs when the
singular values are those of the whitened matrix ``W·L``, the weight error for plain ones).
Each rank added to a matrix therefore buys a known drop in loss at a known price. Two
baselines ignore the loss: one rank for every matrix, or the same share of its own weights for
every matrix (the literature's uniform baseline). The greedy rule buys the best drop per
parameter first, until the budget is spent. A matrix whose rank passes its break-even rank
(``k·(m + n) ≥ m·n``) is left dense instead: that is cheaper and exact.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from course_utils.accounting import break_even_rank
from course_utils.checks import check_dims

DENSE = 0  # the rank recorded for a matrix that is left dense


@dataclass(frozen=True)
class Allocation:
    """Ranks for every matrix (``DENSE`` = left dense), the numbers their weights then hold,
    and the loss left (sum of the dropped squared singular values over all matrices)."""

    ranks: dict[str, int]
    weights: int
    loss: float

    def factorized(self) -> dict[str, int]:
        """Only the matrices to factorize, with their ranks (what ``factorize_ranked`` takes)."""
        return {name: rank for name, rank in self.ranks.items() if rank != DENSE}

    def dense(self) -> list[str]:
        """The matrices left dense."""
        return [name for name, rank in self.ranks.items() if rank == DENSE]


def weight_cost(shape: tuple[int, int], rank: int) -> int:
    """Numbers a matrix holds at ``rank``: ``rank·(m + n)``, or ``m·n`` when ``rank`` is
    ``DENSE``."""
    rows, columns = shape
    return rows * columns if rank == DENSE else rank * (rows + columns)


def _loss(energies: torch.Tensor, rank: int) -> float:
    return 0.0 if rank == DENSE else float(energies[rank:].sum())


def _check(energies: Mapping[str, torch.Tensor], shapes: Mapping[str, tuple[int, int]]) -> None:
    if set(energies) != set(shapes):
        raise ValueError("energies and shapes must name the same matrices")
    for name, shape in shapes.items():
        check_dims(*shape)
        if len(energies[name]) != min(shape):
            raise ValueError(f"{name}: expected {min(shape)} squared singular values")


def _summary(
    ranks: dict[str, int],
    energies: Mapping[str, torch.Tensor],
    shapes: Mapping[str, tuple[int, int]],
) -> Allocation:
    weights = sum(weight_cost(shapes[name], rank) for name, rank in ranks.items())
    loss = sum(_loss(energies[name].double(), rank) for name, rank in ranks.items())
    return Allocation(ranks, weights, loss)


def uniform_allocation(
    energies: Mapping[str, torch.Tensor], shapes: Mapping[str, tuple[int, int]], budget: int
) -> Allocation:
    """The same rank k for every matrix, the largest that fits ``budget`` numbers; a matrix
    for which k is past its break-even rank stays dense."""
    _check(energies, shapes)

    def ranks_at(rank: int) -> dict[str, int]:
        return {
            name: rank if rank <= break_even_rank(*shape) else DENSE
            for name, shape in shapes.items()
        }

    fitting = [
        rank
        for rank in range(1, max(min(shape) for shape in shapes.values()) + 1)
        if sum(weight_cost(shapes[n], r) for n, r in ranks_at(rank).items()) <= budget
    ]
    if not fitting:
        raise ValueError(f"a budget of {budget:,} numbers does not fit rank 1 everywhere")
    return _summary(ranks_at(max(fitting)), energies, shapes)


def equal_ratio_allocation(
    energies: Mapping[str, torch.Tensor], shapes: Mapping[str, tuple[int, int]], budget: int
) -> Allocation:
    """Every matrix keeps the same share ``ρ = budget / Σ m·n`` of its own weights: the largest
    rank k with ``k·(m + n) ≤ ρ·m·n`` (at least 1); every matrix stays dense when ``ρ ≥ 1``.
    Below 1 that rank is always under break-even (written out in 13_transformer_budget)."""
    _check(energies, shapes)
    ratio = budget / sum(rows * columns for rows, columns in shapes.values())
    if ratio >= 1:
        return _summary(dict.fromkeys(shapes, DENSE), energies, shapes)
    ranks = {
        name: max(1, int(ratio * rows * columns) // (rows + columns))
        for name, (rows, columns) in shapes.items()
    }
    allocation = _summary(ranks, energies, shapes)
    if allocation.weights > budget:
        raise ValueError(f"a budget of {budget:,} numbers does not fit rank 1 everywhere")
    return allocation


def greedy_allocation(
    energies: Mapping[str, torch.Tensor], shapes: Mapping[str, tuple[int, int]], budget: int
) -> Allocation:
    """Spend ``budget`` numbers where they cut the loss most per number.

    ``energies[name]``: the matrix's squared singular values, largest first. Every matrix
    starts at rank 1. The next step of a matrix at rank k below break-even adds rank k + 1:
    it costs ``m + n`` and removes ``energies[k]``. At the break-even rank the next step makes
    the matrix dense: it costs ``m·n − k·(m + n)`` and removes the whole rest. Steps are taken
    best ratio first (ties by the order of ``shapes``); a step that does not fit the budget is
    dropped with that matrix's later steps, and the others go on.
    """
    _check(energies, shapes)
    names = list(shapes)
    ranks = dict.fromkeys(names, 1)
    left = budget - sum(weight_cost(shapes[name], 1) for name in names)
    if left < 0:
        raise ValueError(f"a budget of {budget:,} numbers does not fit rank 1 everywhere")
    values = {name: energies[name].double() for name in names}

    def next_step(name: str) -> tuple[float, int, int] | None:
        rank, (rows, columns) = ranks[name], shapes[name]
        if rank == DENSE:
            return None
        if rank < break_even_rank(rows, columns):
            return float(values[name][rank]), rows + columns, rank + 1
        return float(values[name][rank:].sum()), rows * columns - rank * (rows + columns), DENSE

    queue = []
    for order, name in enumerate(names):
        step = next_step(name)
        if step is not None:
            heapq.heappush(queue, (-step[0] / step[1], order, name, step))
    while queue:
        _, order, name, (_, cost, new_rank) = heapq.heappop(queue)
        if cost > left:
            continue  # this matrix stops here; cheaper steps of other matrices may still fit
        left -= cost
        ranks[name] = new_rank
        step = next_step(name)
        if step is not None:
            heapq.heappush(queue, (-step[0] / step[1], order, name, step))
    return _summary(ranks, energies, shapes)
