"""Weight quantization of a linear layer: round-to-nearest with one scale per output row, and
GPTQ's error-feedback rounding that uses the layer's inputs (written out in
10_bytes_not_parameters).

A row ``w`` of the weight becomes integer codes ``q = round(w / s)`` in ``[-qmax, qmax]`` with
``qmax = 2^(bits-1) - 1`` and one scale ``s = max|w| / qmax`` per row (symmetric: no
zero-point). The layer then computes with ``q · s``. The scales are stored in float16 by
default, and the codes are rounded with the float16 scale, so what :meth:`QuantizedRows.dequantize`
returns is exactly what the counted bytes hold.

Byte count (:meth:`QuantizedRows.nbytes`): each row's codes are packed into whole bytes,
``ceil(columns · bits / 8)`` per row (a row starts on a byte boundary, as kernels want), plus
one scale per row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from course_utils.checks import check_matrix

BITS_RANGE = (2, 8)


def check_bits(bits: int) -> int:
    """Return ``bits`` if it is an integer from 2 to 8, else raise ``ValueError`` naming the
    range."""
    low, high = BITS_RANGE
    if isinstance(bits, bool) or not isinstance(bits, int) or not low <= bits <= high:
        raise ValueError(f"bits must be an integer from {low} to {high}, got {bits!r}")
    return bits


def largest_code(bits: int) -> int:
    """``qmax = 2^(bits-1) - 1``: 127 for int8, 7 for int4, 1 for 2 bits (symmetric codes)."""
    return 2 ** (check_bits(bits) - 1) - 1


def packed_row_bytes(columns: int, bits: int) -> int:
    """Bytes of one row of ``columns`` codes of ``bits`` bits, packed and rounded up."""
    return math.ceil(columns * check_bits(bits) / 8)


@dataclass(frozen=True)
class QuantizedRows:
    """A weight stored as integer codes (one int8 per entry here; ``bits`` counted when packed)
    and one scale per output row."""

    codes: torch.Tensor  # (rows, columns), int8, values in [-qmax, qmax]
    scales: torch.Tensor  # (rows,), float16 unless another scale_dtype was asked for
    bits: int

    def dequantize(self) -> torch.Tensor:
        """``codes · scale`` row by row, float32."""
        return self.codes.float() * self.scales.float()[:, None]

    def nbytes(self, scale_bytes: int | None = None) -> int:
        """Packed codes (``ceil(columns·bits/8)`` bytes per row) plus one scale per row of
        ``scale_bytes`` bytes (default: the stored scales' size, 2 for float16)."""
        rows, columns = self.codes.shape
        if scale_bytes is None:
            scale_bytes = self.scales.element_size()
        return rows * packed_row_bytes(columns, self.bits) + rows * scale_bytes


def row_scales(
    weight: torch.Tensor, bits: int, scale_dtype: torch.dtype = torch.float16
) -> torch.Tensor:
    """One scale per row, ``max|w| / qmax``, rounded to ``scale_dtype`` (an all-zero row gets
    the scale 1, its codes are all 0)."""
    check_matrix(weight)
    largest = weight.detach().abs().amax(dim=1).float()
    scales = torch.where(largest > 0, largest / largest_code(bits), torch.ones_like(largest))
    return scales.to(scale_dtype)


def quantize_rows(
    weight: torch.Tensor, bits: int, scale_dtype: torch.dtype = torch.float16
) -> QuantizedRows:
    """Symmetric round-to-nearest with one scale per output row: ``q = round(w / s)`` clipped to
    ``[-qmax, qmax]``."""
    check_bits(bits)
    scales = row_scales(weight, bits, scale_dtype)
    qmax = largest_code(bits)
    codes = torch.round(weight.detach().float() / scales.float()[:, None]).clamp(-qmax, qmax)
    return QuantizedRows(codes.to(torch.int8), scales, bits)


def quantize_rows_gptq(
    weight: torch.Tensor,
    bits: int,
    inputs: torch.Tensor | None = None,
    *,
    hessian: torch.Tensor | None = None,
    damping: float = 0.01,
    scale_dtype: torch.dtype = torch.float16,
) -> QuantizedRows:
    """GPTQ's rounding (Frantar et al. 2022) without its blocking and ordering tricks: the same
    scales as :func:`quantize_rows`, but the columns are rounded one at a time, and each
    column's rounding error is pushed onto the columns not yet rounded, weighted by the inverse
    of ``H = XᵀX + λI`` (``X``: the layer's inputs, one per row; ``λ`` = ``damping`` × the mean
    of diag(XᵀX)). This keeps the OUTPUT error ``‖X(W − Ŵ)ᵀ‖`` small rather than each weight's.

    Pass the inputs ``X`` (n × columns) or their ``hessian`` ``XᵀX`` (columns × columns).
    """
    check_bits(bits)
    check_matrix(weight)
    columns = weight.shape[1]
    if (inputs is None) == (hessian is None):
        raise ValueError("pass exactly one of `inputs` (n × columns) or `hessian` (XᵀX)")
    if inputs is not None:
        if inputs.dim() != 2 or inputs.shape[1] != columns:
            raise ValueError(
                f"inputs must have shape (n, {columns}) for a weight with {columns} columns, "
                f"got {tuple(inputs.shape)}"
            )
        x = inputs.detach().to(device=weight.device, dtype=torch.float64)
        hessian = x.T @ x
    if hessian.shape != (columns, columns):
        raise ValueError(f"hessian must be {columns}×{columns}, got {tuple(hessian.shape)}")
    if not damping > 0:
        raise ValueError(f"damping must be positive, got {damping!r}")
    h = hessian.detach().to(device=weight.device, dtype=torch.float64)
    ridge = damping * h.diagonal().mean().clamp_min(1e-12)
    h = h + ridge * torch.eye(columns, dtype=torch.float64, device=h.device)
    # upper Cholesky factor of H⁻¹: row j holds how column j's error spreads to columns > j
    inverse_factor = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(h)))
    inverse_factor = inverse_factor.T

    scales = row_scales(weight, bits, scale_dtype)
    s = scales.to(torch.float64)
    qmax = largest_code(bits)
    remaining = weight.detach().to(torch.float64).clone()
    codes = torch.empty_like(remaining)
    for j in range(columns):
        codes[:, j] = torch.round(remaining[:, j] / s).clamp(-qmax, qmax)
        error = (remaining[:, j] - codes[:, j] * s) / inverse_factor[j, j]
        remaining[:, j + 1 :] -= torch.outer(error, inverse_factor[j, j + 1 :])
    return QuantizedRows(codes.to(torch.int8), scales, bits)
