"""The course's argument checks, in one place: a weight matrix the SVD can take (02_spectrum),
matrix dimensions (05_parameter_accounting) and a rank (04_truncate). Public functions call them
once, where the argument comes in; the code behind them trusts what was checked."""

from __future__ import annotations

import torch


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_matrix(matrix: torch.Tensor) -> None:
    """Raise ``ValueError`` unless ``matrix`` is a non-empty, finite, floating-point 2-D tensor
    (02_spectrum), naming what is wrong and how to fix it."""
    if not isinstance(matrix, torch.Tensor) or matrix.dim() != 2:
        shape = tuple(matrix.shape) if isinstance(matrix, torch.Tensor) else type(matrix).__name__
        raise ValueError(
            f"expected a 2-D weight matrix (rows, columns), got shape {shape}; pass a layer's "
            f"`.weight`, or a tensor reshaped to two dimensions"
        )
    if matrix.numel() == 0:
        raise ValueError(
            f"the matrix is empty (shape {tuple(matrix.shape)}); an SVD needs at least one row "
            f"and one column"
        )
    if not matrix.dtype.is_floating_point:
        raise ValueError(
            f"expected a floating-point matrix, got dtype {matrix.dtype}; convert it first, "
            f"e.g. `matrix.float()`"
        )
    finite = torch.isfinite(matrix)
    if not bool(finite.all()):
        nans = int(torch.isnan(matrix).sum())
        infinite = int((~finite).sum()) - nans
        raise ValueError(
            f"the matrix holds {nans} NaN and {infinite} infinite entries; the SVD needs finite "
            f"numbers: look for a diverged training run (a NaN loss) or a division by zero "
            f"that produced them"
        )


def check_dims(rows: int, columns: int) -> None:
    """Raise ``ValueError`` unless both dimensions are integers of at least 1
    (05_parameter_accounting)."""
    if not (_is_integer(rows) and _is_integer(columns) and rows >= 1 and columns >= 1):
        raise ValueError(
            f"matrix dimensions must be integers from 1 upwards, got {rows!r}×{columns!r}"
        )


def check_rank(rank: int, shape: tuple[int, ...] | torch.Size) -> int:
    """Return ``rank`` if it is an integer in 1..min(shape), else raise ``ValueError`` naming
    the range (04_truncate). Floats and bools are refused even when they equal an integer."""
    largest = min(shape)
    if not _is_integer(rank) or not 1 <= rank <= largest:
        raise ValueError(
            f"rank must be an integer from 1 to {largest} for a {shape[0]}×{shape[1]} matrix, "
            f"got {rank!r}"
        )
    return rank
