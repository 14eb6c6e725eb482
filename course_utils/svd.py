"""The singular value decomposition of a weight matrix: spectrum, explained variance and
rank-k truncation (introduced in 02_spectrum, 03_explained_variance and 04_truncate)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from course_utils.checks import check_matrix, check_rank


@dataclass(frozen=True)
class Decomposition:
    """``matrix = U @ diag(singular_values) @ Vh``, thin form, singular values descending."""

    U: torch.Tensor
    singular_values: torch.Tensor
    Vh: torch.Tensor

    @property
    def shape(self) -> tuple[int, int]:
        return (self.U.shape[0], self.Vh.shape[1])

    def factors(self, rank: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``U[:, :rank]``, ``diag(S[:rank])`` and ``Vh[:rank, :]``, as stored by the original
        (written out with ``torch.linalg.svd`` in 04_truncate)."""
        check_rank(rank, self.shape)
        return self.U[:, :rank], torch.diag(self.singular_values[:rank]), self.Vh[:rank, :]

    def folded_factors(self, rank: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(U_k·diag(S_k), Vh_k)``: the singular values folded into the left factor."""
        check_rank(rank, self.shape)
        return self.U[:, :rank] * self.singular_values[:rank], self.Vh[:rank, :]

    def approximation(self, rank: int) -> torch.Tensor:
        """The rank-``rank`` truncation, same shape as the original matrix."""
        left, right = self.folded_factors(rank)
        return left @ right


def decompose(matrix: torch.Tensor) -> Decomposition:
    """Thin SVD of a 2-D tensor, computed in float64 and returned in the input's dtype."""
    check_matrix(matrix)
    U, S, Vh = torch.linalg.svd(matrix.detach().to(torch.float64), full_matrices=False)
    dtype = matrix.dtype if matrix.dtype.is_floating_point else torch.float32
    return Decomposition(U.to(dtype), S.to(dtype), Vh.to(dtype))


def singular_values(matrix: torch.Tensor) -> torch.Tensor:
    """Singular values of a 2-D tensor, largest first (float64 for accuracy)."""
    check_matrix(matrix)
    return torch.linalg.svdvals(matrix.detach().to(torch.float64))


def explained_variance(singular_values: torch.Tensor) -> torch.Tensor:
    """Cumulative explained variance ``cumsum(σ²) / sum(σ²)``; entry k-1 belongs to rank k
    (written out from σ in 03_explained_variance)."""
    energy = singular_values.to(torch.float64) ** 2
    total = energy.sum()
    if not (torch.isfinite(total) and total > 0):
        raise ValueError(
            f"the energy Σσ² of these {energy.numel()} singular values is {total.item()}: shares "
            f"need a finite, non-zero total; an all-zero matrix has no energy to share, and a "
            f"NaN or infinite σ comes from a diverged training run"
        )
    return torch.cumsum(energy, 0) / total


def rank_for_variance(singular_values: torch.Tensor, target: float) -> int:
    """Smallest rank whose explained variance reaches ``target``, a fraction in (0, 1] (the search
    is written out as a loop in 03_explained_variance)."""
    if not 0 < target <= 1:
        raise ValueError(f"target must be a fraction in (0, 1], got {target}")
    cumulative = explained_variance(singular_values)
    # tolerance: the last cumulative value can be 1 - 1e-16 in floating point
    return (
        int(torch.searchsorted(cumulative, torch.tensor(target - 1e-12, dtype=cumulative.dtype)))
        + 1
    )


def low_rank_approximation(matrix: torch.Tensor, rank: int) -> torch.Tensor:
    """Best rank-``rank`` approximation of ``matrix`` (Eckart–Young), same shape and dtype;
    04_truncate writes it out as ``U[:, :k] @ diag(S[:k]) @ Vh[:k]``."""
    return decompose(matrix).approximation(rank)


def numerical_rank(matrix: torch.Tensor, relative_tolerance: float | None = None) -> int:
    """Number of singular values above ``tol · σ_max`` (default tol: max(m, n) · float32 eps)."""
    values = singular_values(matrix)
    if relative_tolerance is None:
        relative_tolerance = max(matrix.shape) * torch.finfo(torch.float32).eps
    return int((values > relative_tolerance * values[0]).sum())
