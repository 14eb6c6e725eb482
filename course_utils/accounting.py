"""How many numbers a layer stores, how many bytes and multiply-adds it costs, and the rank at
which factorizing stops saving anything (introduced in 05_parameter_accounting)."""

from __future__ import annotations

import io

import torch
from torch import nn


def _check_dims(rows: int, columns: int, rank: int | None = None) -> None:
    if rows <= 0 or columns <= 0:
        raise ValueError(f"matrix dimensions must be positive, got {rows}×{columns}")
    if rank is not None and not 1 <= rank <= min(rows, columns):
        raise ValueError(f"rank must be from 1 to {min(rows, columns)}, got {rank}")


def count_parameters(model: nn.Module) -> int:
    """Number of parameters (trainable or not) in ``model``."""
    return sum(parameter.numel() for parameter in model.parameters())


def dense_weight_count(rows: int, columns: int) -> int:
    """Numbers in a dense ``rows × columns`` weight matrix."""
    _check_dims(rows, columns)
    return rows * columns


def svd_storage(rows: int, columns: int, rank: int) -> int:
    """Numbers in ``U_k``, ``diag(S_k)`` (k×k) and ``Vh_k``, as the original stores them."""
    _check_dims(rows, columns, rank)
    return rows * rank + rank * rank + rank * columns


def folded_storage(rows: int, columns: int, rank: int) -> int:
    """Numbers in the two factors once ``S_k`` is folded into one: ``k·(rows + columns)``."""
    _check_dims(rows, columns, rank)
    return rank * (rows + columns)


def factorized_layer_parameters(rows: int, columns: int, rank: int, bias: bool = True) -> int:
    """Parameters of a FactorizedLinear: the folded factors plus ``rows`` biases."""
    return folded_storage(rows, columns, rank) + (rows if bias else 0)


def break_even_rank(rows: int, columns: int) -> int:
    """Largest rank at which the folded factors hold fewer numbers than the dense matrix.

    ``k·(rows + columns) < rows·columns`` holds for k below ``rows·columns / (rows + columns)``;
    it is also where the factorized layer stops needing fewer multiply-adds.
    """
    _check_dims(rows, columns)
    return (rows * columns - 1) // (rows + columns)


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
