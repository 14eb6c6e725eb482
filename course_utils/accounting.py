"""How many numbers a layer stores, how many bytes and multiply-adds it costs, the rank at which
factorizing stops saving anything and the rank that fits a budget (introduced in
05_parameter_accounting; budgets in 12_transformer)."""

from __future__ import annotations

import io
import math

import torch
from torch import nn

from course_utils.checks import check_dims, check_rank


def count_parameters(model: nn.Module) -> int:
    """Number of parameters (trainable or not) in ``model``."""
    return sum(parameter.numel() for parameter in model.parameters())


def dense_weight_count(rows: int, columns: int) -> int:
    """Numbers in a dense ``rows × columns`` weight matrix."""
    check_dims(rows, columns)
    return rows * columns


def svd_storage(rows: int, columns: int, rank: int) -> int:
    """Numbers in ``U_k``, ``diag(S_k)`` (k×k) and ``Vh_k``, as the original stores them."""
    check_dims(rows, columns)
    check_rank(rank, (rows, columns))
    return rows * rank + rank * rank + rank * columns


def folded_storage(rows: int, columns: int, rank: int) -> int:
    """Numbers in the two factors once ``S_k`` is folded into one: ``k·(rows + columns)``."""
    check_dims(rows, columns)
    check_rank(rank, (rows, columns))
    return rank * (rows + columns)


def factorized_layer_parameters(rows: int, columns: int, rank: int, bias: bool = True) -> int:
    """Parameters of a FactorizedLinear: the folded factors plus ``rows`` biases."""
    return folded_storage(rows, columns, rank) + (rows if bias else 0)


def break_even_rank(rows: int, columns: int) -> int:
    """Largest rank at which the folded factors hold fewer numbers than the dense matrix.

    ``k·(rows + columns) < rows·columns`` holds for k below ``rows·columns / (rows + columns)``;
    it is also where the factorized layer stops needing fewer multiply-adds.
    """
    check_dims(rows, columns)
    return (rows * columns - 1) // (rows + columns)


def svd_break_even_rank(rows: int, columns: int) -> int:
    """Largest rank at which ``U_k``, ``diag(S_k)`` and ``Vh_k`` (the original's layout, k² more
    than the folded factors) hold fewer numbers than the dense matrix (05_parameter_accounting
    finds it by a search; the rank explorer of 04_truncate shows it)."""
    check_dims(rows, columns)
    dense = dense_weight_count(rows, columns)
    ranks = range(1, min(rows, columns) + 1)
    return max((k for k in ranks if svd_storage(rows, columns, k) < dense), default=0)


def rank_for_budget(shape: tuple[int, int] | torch.Size, budget: float) -> int:
    """Largest rank k whose factors hold at most ``budget`` × the dense weights:
    ``k·(m + n) ≤ budget·m·n`` (at least 1; introduced in 12_transformer)."""
    rows, columns = shape
    check_dims(rows, columns)
    if isinstance(budget, bool) or not isinstance(budget, int | float) or not 0 < budget < math.inf:
        raise ValueError(
            f"budget must be a positive, finite fraction of the dense weights, got {budget!r}"
        )
    return max(1, min(rows, columns, int(budget * rows * columns) // (rows + columns)))


def dense_multiply_adds(rows: int, columns: int, batch: int = 1) -> int:
    """Multiply-adds of ``x Wᵀ`` for ``batch`` inputs and a ``rows × columns`` weight."""
    return batch * dense_weight_count(rows, columns)


def factorized_multiply_adds(rows: int, columns: int, rank: int, batch: int = 1) -> int:
    """Multiply-adds of the two-step factorized product for ``batch`` inputs."""
    return batch * folded_storage(rows, columns, rank)


def parameter_bytes(model: nn.Module) -> int:
    """Bytes taken by the parameters of ``model`` in memory."""
    return sum(p.numel() * p.element_size() for p in model.parameters())


def checkpoint_bytes(model: nn.Module) -> int:
    """Size of ``torch.save(model.state_dict())``, measured in memory."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes
