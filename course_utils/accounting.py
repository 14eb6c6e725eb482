"""How many numbers a layer stores, how many bytes and multiply-adds it costs, the rank at which
factorizing stops saving anything and the rank that fits a budget (introduced in
05_parameter_accounting; budgets in 12_transformer)."""

from __future__ import annotations

import io
import math
from collections.abc import Callable

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


# Bytes of each storage format of one weight matrix (10_bytes_not_parameters). Every format's
# overhead is counted: scales (one per row, float16 unless told), indices, bitmasks.
FLOAT_BYTES = {32: 4, 16: 2}


def _check_count(name: str, value: int, largest: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= largest:
        raise ValueError(f"{name} must be an integer from 0 to {largest}, got {value!r}")


def _value_bytes(count: int, rows: int, value_bits: int, scale_bytes: int) -> int:
    """``count`` values: float32/float16 as they are, or integer codes of ``value_bits`` bits
    (2–8) packed in whole bytes plus one scale per row."""
    if value_bits in FLOAT_BYTES:
        return count * FLOAT_BYTES[value_bits]
    if isinstance(value_bits, bool) or value_bits not in range(2, 9):
        raise ValueError(f"value_bits must be 32, 16 or an integer from 2 to 8, got {value_bits!r}")
    return math.ceil(count * value_bits / 8) + rows * scale_bytes


def dense_bytes(rows: int, columns: int, value_bits: int = 32, scale_bytes: int = 2) -> int:
    """A dense ``rows × columns`` weight: float32/float16, or codes of 2–8 bits packed row by row
    (``ceil(columns·bits/8)`` bytes per row) with one scale per row."""
    check_dims(rows, columns)
    if value_bits in FLOAT_BYTES:
        return rows * columns * FLOAT_BYTES[value_bits]
    row_bytes = _value_bytes(columns, 1, value_bits, scale_bytes)
    return rows * row_bytes


def factor_bytes(
    rows: int, columns: int, rank: int, value_bits: int = 32, scale_bytes: int = 2
) -> int:
    """The two folded factors (rows × rank and rank × columns), each stored as
    :func:`dense_bytes` (quantized factors carry a scale per row of each factor)."""
    check_dims(rows, columns)
    check_rank(rank, (rows, columns))
    return dense_bytes(rows, rank, value_bits, scale_bytes) + dense_bytes(
        rank, columns, value_bits, scale_bytes
    )


def csr_bytes(
    rows: int,
    columns: int,
    nonzeros: int,
    value_bits: int = 32,
    index_bytes: int = 4,
    scale_bytes: int = 2,
) -> int:
    """Compressed sparse rows: the ``nonzeros`` values, one column index each
    (``index_bytes``, int32 by default) and ``rows + 1`` row offsets; quantized values add one
    scale per row."""
    check_dims(rows, columns)
    _check_count("nonzeros", nonzeros, rows * columns)
    indices = nonzeros * index_bytes + (rows + 1) * index_bytes
    return _value_bytes(nonzeros, rows, value_bits, scale_bytes) + indices


def bitmask_bytes(
    rows: int, columns: int, nonzeros: int, value_bits: int = 32, scale_bytes: int = 2
) -> int:
    """One bit per entry saying whether it is kept (``ceil(rows·columns/8)`` bytes), then the
    ``nonzeros`` kept values in order; quantized values add one scale per row."""
    check_dims(rows, columns)
    _check_count("nonzeros", nonzeros, rows * columns)
    return math.ceil(rows * columns / 8) + _value_bytes(nonzeros, rows, value_bits, scale_bytes)


def largest_fitting(size: Callable[[int], int], largest: int, budget: int, what: str) -> int:
    """The largest ``n`` in 1..``largest`` with ``size(n) ≤ budget`` bytes (``size`` must grow
    with ``n``); a ``ValueError`` when even ``n = 1`` does not fit, naming the smallest budget
    that would."""
    if size(1) > budget:
        raise ValueError(f"{what} needs at least {size(1):,} bytes, the budget is {budget:,}")
    low, high = 1, largest
    while low < high:
        middle = (low + high + 1) // 2
        if size(middle) <= budget:
            low = middle
        else:
            high = middle - 1
    return low
