"""Test accuracy of SimpleNN with fc1 truncated to any rank, without rebuilding the model:
one SVD, the test images projected once onto the right singular vectors, then each rank costs
one small matrix product (introduced in 04_truncate; it drives the rank explorer)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from course_utils.checks import check_rank
from course_utils.data import MnistTensors
from course_utils.models import SimpleNN
from course_utils.svd import Decomposition, decompose


class RankSweep:
    """Accuracy of ``fc2(relu(x W_kᵀ + b1))`` on ``data`` for any rank ``k`` of fc1.

    ``x W_kᵀ = (x V_k) (U_k Σ_k)ᵀ``; ``x V`` is computed once for all ranks. A single rank above
    half the full rank is computed as the full product minus the dropped directions, so no rank
    costs more than half of a full product.
    """

    def __init__(
        self, model: SimpleNN, data: MnistTensors, decomposition: Decomposition | None = None
    ) -> None:
        weight = model.fc1.weight.detach()
        self.decomposition = decomposition or decompose(weight)
        self.max_rank = min(weight.shape)
        device = weight.device
        with torch.no_grad():
            images = data.images.flatten(1).to(device)
            self.projections = images @ self.decomposition.Vh.T
            self.left = self.decomposition.U * self.decomposition.singular_values
        self.bias = model.fc1.bias.detach()
        self.head_weight = model.fc2.weight.detach()
        self.head_bias = model.fc2.bias.detach()
        self.labels = data.labels.to(device)
        self._full_preactivation: torch.Tensor | None = None  # x Wᵀ + b1 at full rank
        self._buffer: torch.Tensor | None = None
        self._checkpoints: dict[int, torch.Tensor] = {}  # rank -> x W_rankᵀ + b1

    @torch.no_grad()
    def keep_checkpoints(self, every: int = 50) -> None:
        """Store ``x W_kᵀ + b1`` at ranks 0, ``every``, 2·``every``, ..., full rank (one full
        product in all; 20 MB each for the 10,000 test images), so that any single rank then
        costs at most ``every / 2`` singular directions from the nearest checkpoint. The rank
        explorer does this once, to keep a slider move fast."""
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        ranks = sorted({*range(every, self.max_rank, every), self.max_rank})
        preactivation = self.bias.expand(len(self.labels), -1).clone()
        self._checkpoints = {0: preactivation.clone()}
        done = 0
        for rank in ranks:
            preactivation.addmm_(self.projections[:, done:rank], self.left[:, done:rank].T)
            self._checkpoints[rank] = preactivation.clone()
            done = rank

    def _scratch(self) -> torch.Tensor:
        """A reused (images × hidden units) buffer: allocating 20 MB afresh for every rank costs
        more than the arithmetic (the pages must be zeroed by the system)."""
        if self._buffer is None:
            self._buffer = torch.empty(
                len(self.labels), self.left.shape[0], device=self.left.device, dtype=self.left.dtype
            )
        return self._buffer

    def _predictions_of(self, hidden: torch.Tensor) -> torch.Tensor:
        return torch.addmm(self.head_bias, hidden, self.head_weight.T).argmax(1)

    def _accuracy_of(self, hidden: torch.Tensor) -> float:
        return float((self._predictions_of(hidden) == self.labels).float().mean())

    @torch.no_grad()
    def accuracy(self, rank: int) -> float:
        """Test accuracy with fc1 at rank ``rank`` (1..min(fc1.shape))."""
        return float((self.predictions(rank) == self.labels).float().mean())

    @torch.no_grad()
    def predictions(self, rank: int) -> torch.Tensor:
        """The digit predicted for every image with fc1 at rank ``rank`` (the rank explorer's
        per-class accuracies and digit marks come from it, 04_truncate)."""
        check_rank(rank, self.decomposition.shape)
        buffer = self._scratch()
        if self._checkpoints:
            nearest = min(self._checkpoints, key=lambda checkpoint: abs(checkpoint - rank))
            buffer.copy_(self._checkpoints[nearest])
            low, high = sorted((nearest, rank))
            sign = 1 if rank > nearest else -1
            buffer.addmm_(self.projections[:, low:high], self.left[:, low:high].T, alpha=sign)
        elif 2 * rank <= self.max_rank:
            kept = slice(None, rank)
            torch.addmm(self.bias, self.projections[:, kept], self.left[:, kept].T, out=buffer)
        else:
            if self._full_preactivation is None:
                self._full_preactivation = torch.addmm(self.bias, self.projections, self.left.T)
            dropped = slice(rank, None)
            torch.addmm(
                self._full_preactivation,
                self.projections[:, dropped],
                self.left[:, dropped].T,
                alpha=-1,
                out=buffer,
            )
        return self._predictions_of(buffer.relu_())

    @torch.no_grad()
    def accuracies(self, ranks: Sequence[int]) -> list[float]:
        """Accuracy at each rank; ranks are visited in increasing order and each step only adds
        the singular directions between two ranks."""
        for rank in ranks:
            check_rank(rank, self.decomposition.shape)
        results: dict[int, float] = {}
        preactivation = self.bias.expand(len(self.labels), -1).clone()
        buffer = self._scratch()
        done = 0
        for rank in sorted(set(ranks)):
            preactivation.addmm_(self.projections[:, done:rank], self.left[:, done:rank].T)
            done = rank
            results[rank] = self._accuracy_of(torch.clamp(preactivation, min=0, out=buffer))
        return [results[rank] for rank in ranks]
