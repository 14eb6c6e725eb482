"""Activation-aware low-rank factorization of any ``nn.Linear``: choose the rank-k factors that
keep the layer's OUTPUTS on real inputs, not its weights (written out by hand on MNIST's fc1 in
11_activation_aware, used on a pretrained transformer in 12_transformer).

Plain truncated SVD minimises ``‖W − W'‖_F``, which treats every input direction as equally
likely. A layer only ever sees its own inputs ``x``, so what matters is the output error
``E‖(W − W')x‖² = tr((W − W') C (W − W')ᵀ)`` with ``C = E[x xᵀ]``, the inputs' second moment,
measured on a calibration set. Two published ways to use ``C``:

- whitening (the idea of SVD-LLM, Wang et al. 2024): write ``C = L Lᵀ`` (Cholesky), truncate
  the SVD of ``W L`` and map back with ``L⁻¹``. This is the best rank-k choice for that output
  error, just as plain truncation is the best for the weight error (Eckart–Young);
- centred whitening: the same with the covariance ``C − μμᵀ`` (μ = E[x]) in place of ``C``, and
  the mean's share of what is dropped, ``(W − W')μ``, folded into the layer's bias. The best
  rank-k weight and bias together; the uncentred version spends its first direction on μ;
- scaling (the idea of ASVD, Yuan et al. 2023): multiply each input column of ``W`` by
  ``mean|x_j|^α`` before the SVD and divide it out afterwards; cheaper, but only diagonal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from course_utils.checks import check_matrix, check_rank
from course_utils.compress import FactorizedLinear, factorize_layers, linear_layer
from course_utils.svd import decompose, explained_variance

METHODS = ("plain", "whiten", "centred", "scale")


@dataclass
class InputStatistics:
    """Running sums over the input vectors a linear layer has seen (float64)."""

    features: int
    gram: torch.Tensor = field(init=False)  # Σ x xᵀ, (features, features)
    total: torch.Tensor = field(init=False)  # Σ x, (features,)
    absolute_sum: torch.Tensor = field(init=False)  # Σ |x|, (features,)
    count: int = 0  # how many vectors (tokens) were added

    def __post_init__(self) -> None:
        self.gram = torch.zeros(self.features, self.features, dtype=torch.float64)
        self.total = torch.zeros(self.features, dtype=torch.float64)
        self.absolute_sum = torch.zeros(self.features, dtype=torch.float64)

    def add(self, inputs: torch.Tensor) -> None:
        """Add a batch of input vectors, shape (vectors, features)."""
        if inputs.dim() != 2 or inputs.shape[1] != self.features:
            raise ValueError(
                f"expected input vectors of shape (n, {self.features}), got {tuple(inputs.shape)}"
            )
        vectors = inputs.detach().float()
        # float32 product per batch (fast), float64 running sum (no drift over many batches)
        self.gram += (vectors.T @ vectors).cpu().to(torch.float64)
        self.total += vectors.sum(0).cpu().to(torch.float64)
        self.absolute_sum += vectors.abs().sum(0).cpu().to(torch.float64)
        self.count += vectors.shape[0]

    def second_moment(self) -> torch.Tensor:
        """``C = E[x xᵀ]`` over every vector added, float64."""
        if self.count == 0:
            raise ValueError("no inputs were added, so there are no statistics yet")
        return self.gram / self.count

    def mean(self) -> torch.Tensor:
        """``μ = E[x]`` over every vector added, float64."""
        if self.count == 0:
            raise ValueError("no inputs were added, so there are no statistics yet")
        return self.total / self.count

    def covariance(self) -> torch.Tensor:
        """``C − μμᵀ = E[(x − μ)(x − μ)ᵀ]``, float64 (written out in 11_activation_aware)."""
        mean = self.mean()
        return self.second_moment() - torch.outer(mean, mean)

    def mean_absolute(self) -> torch.Tensor:
        """``E|x_j|`` for every input feature j, float64."""
        if self.count == 0:
            raise ValueError("no inputs were added, so there are no statistics yet")
        return self.absolute_sum / self.count


@torch.no_grad()
def collect_input_statistics(
    model: nn.Module,
    layer_names: Iterable[str],
    batches: Iterable[Any],
    run: Callable[[nn.Module, Any], object] | None = None,
    token_mask: Callable[[Any], torch.Tensor | None] | None = None,
) -> dict[str, InputStatistics]:
    """Run ``model`` over ``batches`` and sum the inputs of each named linear layer.

    ``run(model, batch)`` does one forward pass (default ``model(batch)``). ``token_mask(batch)``
    may return a boolean mask over the inputs' leading dimensions (e.g. (batch, tokens)) so that
    padding positions are left out of the statistics.
    """
    layers = {name: linear_layer(model, name) for name in layer_names}
    statistics = {name: InputStatistics(layer.in_features) for name, layer in layers.items()}
    current: dict[str, torch.Tensor | None] = {"mask": None}

    def hook_for(name: str) -> Callable[..., None]:
        def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: object) -> None:
            vectors = inputs[0]
            mask = current["mask"]
            if mask is not None:
                vectors = vectors[mask.to(device=vectors.device, dtype=torch.bool)]
            statistics[name].add(vectors.reshape(-1, vectors.shape[-1]))

        return hook

    handles = [layer.register_forward_hook(hook_for(name)) for name, layer in layers.items()]
    try:
        for batch in batches:
            current["mask"] = token_mask(batch) if token_mask else None
            run(model, batch) if run else model(batch)
    finally:
        for handle in handles:
            handle.remove()
    return statistics


def whitening_factor(
    statistics: InputStatistics, damping: float = 1e-5, centred: bool = False
) -> torch.Tensor:
    """Lower-triangular ``L`` with ``L Lᵀ = C + δ·mean(diag C)·I`` (float64); with ``centred``,
    the covariance ``C − μμᵀ`` in place of ``C``.

    The small ridge ``δ`` keeps ``L`` invertible when some input directions never occur.
    """
    moment = statistics.covariance() if centred else statistics.second_moment()
    ridge = damping * moment.diagonal().mean().clamp_min(torch.finfo(torch.float64).tiny)
    return torch.linalg.cholesky(moment + ridge * torch.eye(len(moment), dtype=moment.dtype))


@dataclass(frozen=True)
class RankedFactors:
    """Full-rank factors of one weight, most important direction first.

    ``left[:, :k] @ right[:k]`` is the method's rank-k choice, so every rank comes from one SVD.
    ``singular_values`` belong to the matrix that was decomposed (W, W·L or W·diag(s)): their
    explained variance (the energy) is what rank k keeps, measured the method's way.
    ``input_mean`` is μ for the centred method (None otherwise): its rank-k layer computes
    ``left_k (right_k x) + b + bias_shift(k)``.
    """

    left: torch.Tensor  # (out, r)
    right: torch.Tensor  # (r, in)
    singular_values: torch.Tensor  # (r,), float64
    method: str
    input_mean: torch.Tensor | None = None  # (in,), the centred method's μ

    def truncated(self, rank: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The rank-``rank`` factors (out×rank, rank×in)."""
        check_rank(rank, (self.left.shape[0], self.right.shape[1]))
        return self.left[:, :rank].contiguous(), self.right[:rank].contiguous()

    def bias_shift(self, rank: int) -> torch.Tensor:
        """What the rank-``rank`` layer adds to the bias: ``(W − W_k) μ``, the mean input's share
        of the dropped directions, for the centred method; zeros for the others."""
        check_rank(rank, (self.left.shape[0], self.right.shape[1]))
        if self.input_mean is None:
            return torch.zeros_like(self.left[:, 0])
        return self.left[:, rank:] @ (self.right[rank:] @ self.input_mean)

    def explained_variance(self) -> torch.Tensor:
        """``cumsum(σ²)/sum(σ²)`` of the decomposed matrix; entry k-1 belongs to rank k."""
        return explained_variance(self.singular_values)


def _check_statistics(
    weight: torch.Tensor, method: str, statistics: InputStatistics | None
) -> InputStatistics | None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "plain":
        return None
    if statistics is None:
        raise ValueError(f"method {method!r} needs the statistics of the layer's inputs")
    if statistics.features != weight.shape[1]:
        raise ValueError(
            f"statistics describe {statistics.features} input features, the weight has "
            f"{weight.shape[1]}"
        )
    return statistics


def ranked_factors(
    weight: torch.Tensor,
    method: str = "whiten",
    statistics: InputStatistics | None = None,
    damping: float = 1e-5,
    alpha: float = 0.5,
) -> RankedFactors:
    """One SVD, all ranks. ``method``: "plain" (SVD of the weight), "whiten" (SVD of ``W L``,
    then ``L⁻¹`` folded into the right factor) or "scale" (SVD of ``W diag(s)`` with
    ``s = mean|x|^alpha``, then ``diag(1/s)``). The last two need ``statistics`` of the layer's
    inputs. "centred" whitens with the covariance instead and folds the mean's share into the
    bias (see ``RankedFactors.bias_shift``). Factors come back in ``weight``'s dtype, computed
    in float64. The whitened and centred factors are written out with an eigendecomposition in
    11_activation_aware (any square root of ``C`` gives the same factors)."""
    check_matrix(weight)
    statistics = _check_statistics(weight, method, statistics)
    matrix = weight.detach().cpu().to(torch.float64)
    if method == "plain":
        decomposition = decompose(matrix)
        right = decomposition.Vh
    elif method in ("whiten", "centred"):
        lower = whitening_factor(statistics, damping, centred=method == "centred")
        decomposition = decompose(matrix @ lower)
        # Vh L⁻¹, computed as the solution of Lᵀ Z = Vhᵀ (no explicit inverse)
        right = torch.linalg.solve_triangular(lower.T, decomposition.Vh.T, upper=True).T
    else:
        scale = statistics.mean_absolute().clamp_min(1e-12) ** alpha
        decomposition = decompose(matrix * scale)
        right = decomposition.Vh / scale
    left = decomposition.U * decomposition.singular_values
    input_mean = statistics.mean() if method == "centred" else None

    def placed(tensor: torch.Tensor) -> torch.Tensor:
        return tensor.to(device=weight.device, dtype=weight.dtype)

    return RankedFactors(
        placed(left),
        placed(right),
        decomposition.singular_values,
        method,
        None if input_mean is None else placed(input_mean),
    )


def factorize_ranked(
    model: nn.Module, factors: dict[str, RankedFactors], ranks: dict[str, int]
) -> nn.Module:
    """A copy of ``model`` with each layer in ``ranks`` replaced by a ``FactorizedLinear`` made
    of the first ``rank`` directions of its ``factors`` (every other parameter copied; centred
    factors add their ``bias_shift`` to the layer's bias)."""
    missing = sorted(set(ranks) - set(factors))
    if missing:
        raise KeyError(f"no factors for layers {missing}")

    def factorizer(name: str, layer: nn.Linear, rank: int) -> FactorizedLinear:
        ranked = factors[name]
        factorized = FactorizedLinear.from_factors(layer, *ranked.truncated(rank))
        if ranked.input_mean is not None:
            if layer.bias is None:
                raise ValueError(
                    f"centred factors need a bias to fold the mean into; {name} has none"
                )
            with torch.no_grad():
                factorized.expand.bias += ranked.bias_shift(rank).to(factorized.expand.bias)
        return factorized

    return factorize_layers(model, ranks, factorizer)
