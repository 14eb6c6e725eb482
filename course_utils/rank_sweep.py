"""Test accuracy of SimpleNN with fc1 truncated to any rank, without rebuilding the model:
one factorization, the test images projected once onto its right factor, then each rank costs
one small matrix product (introduced in 04_truncate for the plain SVD; it drives the rank
explorer, and 11_activation_aware sweeps whitened and centred factors with it)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from course_utils.activation_aware import RankedFactors
from course_utils.checks import check_rank
from course_utils.data import MnistTensors
from course_utils.models import SimpleNN
from course_utils.svd import Decomposition, decompose
from course_utils.threads import one_cpu_thread


class RankSweep:
    """Accuracy of ``fc2(relu(x W_kᵀ + b1))`` on ``data`` for any rank ``k`` of fc1.

    ``x W_kᵀ = (x V_k) (U_k Σ_k)ᵀ``; ``x V`` is computed once for all ranks. ``factors`` (from
    ``activation_aware.ranked_factors``) replaces the plain SVD by any ranked factors
    ``W_k = left_k right_k``; centred ones subtract their ``input_mean`` μ from every image and
    start from the bias ``b1 + W μ``. A single rank above half the full rank is computed as the
    full product minus the dropped directions, so no rank costs more than half of a full product.
    """

    def __init__(
        self,
        model: SimpleNN,
        data: MnistTensors,
        decomposition: Decomposition | None = None,
        *,
        factors: RankedFactors | None = None,
    ) -> None:
        weight = model.fc1.weight.detach()
        if decomposition is not None and factors is not None:
            raise ValueError("give a decomposition or ranked factors, not both")
        self.max_rank = min(weight.shape)
        device = weight.device
        self.bias = model.fc1.bias.detach()
        with torch.no_grad():
            images = data.images.flatten(1).to(device)
            if factors is None:
                self.decomposition: Decomposition | None = decomposition or decompose(weight)
                self.left = self.decomposition.U * self.decomposition.singular_values
                right = self.decomposition.Vh
            else:
                if factors.left.shape[0] != weight.shape[0] or factors.right.shape != (
                    self.max_rank,
                    weight.shape[1],
                ):
                    raise ValueError(
                        f"factors of shape {tuple(factors.left.shape)} and "
                        f"{tuple(factors.right.shape)} do not fit fc1 ({tuple(weight.shape)})"
                    )
                self.decomposition = None
                self.left, right = (
                    factors.left.detach().to(device),
                    factors.right.detach().to(device),
                )
                if factors.input_mean is not None:
                    mean = factors.input_mean.to(device)
                    images = images - mean
                    self.bias = self.bias + self.left @ (right @ mean)  # b1 + W μ
            self.projections = images @ right.T
        self.shape = (weight.shape[0], weight.shape[1])
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

    @torch.no_grad()
    def accuracy(self, rank: int) -> float:
        """Test accuracy with fc1 at rank ``rank`` (1..min(fc1.shape))."""
        return float((self.predictions(rank) == self.labels).float().mean())

    @torch.no_grad()
    def predictions(self, rank: int) -> torch.Tensor:
        """The digit predicted for every image with fc1 at rank ``rank`` (the rank explorer's
        per-class accuracies and digit marks come from it, 04_truncate)."""
        check_rank(rank, self.shape)
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
    def accuracies(self, ranks: Sequence[int], chunk: int = 1000) -> list[float]:
        """Accuracy at each rank, in one pass: ranks are visited in increasing order and each
        step adds only the directions between two ranks. The images go in chunks of ``chunk``,
        small enough to stay in the processor's cache while every rank is visited, on one CPU
        thread (thousands of small products: threads would wait, not work)."""
        for rank in ranks:
            check_rank(rank, self.shape)
        if chunk <= 0:
            raise ValueError(f"chunk must be a positive integer, got {chunk}")
        visited = sorted(set(ranks))
        correct = torch.zeros(len(visited), dtype=torch.int64, device=self.labels.device)
        with one_cpu_thread(self.labels.device):
            for start in range(0, len(self.labels), chunk):
                correct += self._correct_in_chunk(slice(start, start + chunk), visited)
        accuracy_at = dict(
            zip(visited, (correct.double() / len(self.labels)).tolist(), strict=True)
        )
        return [accuracy_at[rank] for rank in ranks]

    def _correct_in_chunk(self, images: slice, ranks: list[int]) -> torch.Tensor:
        # hidden units along the rows, images along the columns: the head's product is then
        # (10 × hidden) @ (hidden × images), the fast shape for a 10-row weight
        projections = self.projections[images].T.contiguous()  # (directions, images)
        labels = self.labels[images]
        preactivation = self.bias[:, None].expand(-1, len(labels)).clone()
        hidden = torch.empty_like(preactivation)
        correct = torch.zeros(len(ranks), dtype=torch.int64, device=labels.device)
        done = 0
        for index, rank in enumerate(ranks):
            preactivation.addmm_(self.left[:, done:rank], projections[done:rank])
            done = rank
            torch.clamp(preactivation, min=0, out=hidden)
            logits = torch.addmm(self.head_bias[:, None], self.head_weight, hidden)
            correct[index] = (logits.argmax(0) == labels).sum()
        return correct
