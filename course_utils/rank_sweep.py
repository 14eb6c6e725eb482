"""Test accuracy of SimpleNN with fc1 truncated to any rank, without rebuilding the model:
one SVD, the test images projected once onto the right singular vectors, then each rank costs
one small matrix product (introduced in 04_truncate; it drives the rank sliders)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from course_utils.data import MnistTensors
from course_utils.models import SimpleNN
from course_utils.svd import Decomposition, check_rank, decompose


class RankSweep:
    """Accuracy of ``fc2(relu(x W_kᵀ + b1))`` on ``data`` for any rank ``k`` of fc1.

    ``x W_kᵀ = (x V_k) (U_k Σ_k)ᵀ``; ``x V`` is computed once for all ranks.
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

    def _accuracy_from(self, preactivation: torch.Tensor) -> float:
        logits = torch.relu(preactivation + self.bias) @ self.head_weight.T + self.head_bias
        return float((logits.argmax(1) == self.labels).float().mean())

    @torch.no_grad()
    def accuracy(self, rank: int) -> float:
        """Test accuracy with fc1 at rank ``rank`` (1..min(fc1.shape))."""
        check_rank(rank, self.decomposition.shape)
        return self._accuracy_from(self.projections[:, :rank] @ self.left[:, :rank].T)

    @torch.no_grad()
    def accuracies(self, ranks: Sequence[int]) -> list[float]:
        """Accuracy at each rank; ranks are visited in increasing order and each step only adds
        the singular directions between two ranks."""
        for rank in ranks:
            check_rank(rank, self.decomposition.shape)
        results: dict[int, float] = {}
        preactivation = torch.zeros(
            len(self.labels), self.left.shape[0], device=self.left.device, dtype=self.left.dtype
        )
        done = 0
        for rank in sorted(set(ranks)):
            preactivation += self.projections[:, done:rank] @ self.left[:, done:rank].T
            done = rank
            results[rank] = self._accuracy_from(preactivation)
        return [results[rank] for rank in ranks]
