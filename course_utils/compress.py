"""Low-rank compression of ``nn.Linear`` layers: a same-shape truncation or a factorized
784→k→500 layer, always in a NEW model with every other parameter copied (04_truncate,
05_parameter_accounting; any model's linear layers in 12_transformer)."""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn

from course_utils.checks import check_rank
from course_utils.svd import Decomposition, decompose


def linear_layer_names(model: nn.Module, include: Callable[[str], bool] | None = None) -> list[str]:
    """Names of the ``nn.Linear`` layers of ``model``, optionally filtered by ``include``."""
    return [
        name
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and (include is None or include(name))
    ]


def linear_layer(model: nn.Module, name: str) -> nn.Linear:
    """The ``nn.Linear`` called ``name`` in ``model``; a clear error if absent or not linear."""
    modules = dict(model.named_modules())
    linear_names = linear_layer_names(model)
    if name not in modules:
        raise KeyError(f"model has no layer {name!r}; its linear layers are {linear_names}")
    layer = modules[name]
    if not isinstance(layer, nn.Linear):
        raise TypeError(
            f"layer {name!r} is a {type(layer).__name__}, not nn.Linear; "
            f"choose one of {linear_names}"
        )
    return layer


def _replace_module(model: nn.Module, name: str, replacement: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, replacement)


class FactorizedLinear(nn.Module):
    """A rank-``k`` linear layer stored as two: ``Linear(in, k, bias=False)`` → ``Linear(k, out)``.

    With weights ``Vh_k`` and ``U_k·diag(S_k)`` (the singular values folded into the second
    layer) it computes ``x W_kᵀ + b`` using ``k·(in + out) + out`` parameters instead of
    ``in·out + out``. 05_parameter_accounting builds it by hand from two ``nn.Linear``.
    """

    def __init__(self, in_features: int, out_features: int, rank: int, bias: bool = True) -> None:
        super().__init__()
        check_rank(rank, (out_features, in_features))
        self.in_features, self.out_features, self.rank = in_features, out_features, rank
        self.project = nn.Linear(in_features, rank, bias=False)
        self.expand = nn.Linear(rank, out_features, bias=bias)

    @classmethod
    def from_linear(
        cls, layer: nn.Linear, rank: int, decomposition: Decomposition | None = None
    ) -> FactorizedLinear:
        """Factorize ``layer``'s weight by its SVD (or ``decomposition`` of that weight, when
        given), keeping a copy of its bias."""
        weight = layer.weight.detach()
        check_rank(rank, weight.shape)  # before the SVD, which is the slow part
        if decomposition is None:
            decomposition = decompose(weight)
        elif decomposition.shape != tuple(weight.shape):
            raise ValueError(
                f"the decomposition is of a {decomposition.shape[0]}×{decomposition.shape[1]} "
                f"matrix, the layer's weight is {weight.shape[0]}×{weight.shape[1]}; pass "
                f"`decompose(layer.weight)`"
            )
        return cls.from_factors(layer, *decomposition.folded_factors(rank))

    @classmethod
    def from_factors(
        cls, layer: nn.Linear, left: torch.Tensor, right: torch.Tensor
    ) -> FactorizedLinear:
        """A layer applying ``left @ right`` (out×k times k×in) plus a copy of ``layer``'s bias.

        Any factorization fits, e.g. an activation-aware one (12_transformer).
        """
        rank = right.shape[0]
        expected = ((layer.out_features, rank), (rank, layer.in_features))
        if (tuple(left.shape), tuple(right.shape)) != expected:
            raise ValueError(
                f"factors must have shapes {expected[0]} and {expected[1]} for a "
                f"{layer.out_features}×{layer.in_features} layer, got {tuple(left.shape)} "
                f"and {tuple(right.shape)}"
            )
        factorized = cls(layer.in_features, layer.out_features, rank, layer.bias is not None)
        factorized.to(device=layer.weight.device, dtype=layer.weight.dtype)
        with torch.no_grad():
            factorized.project.weight.copy_(right)
            factorized.expand.weight.copy_(left)
            if layer.bias is not None:
                factorized.expand.bias.copy_(layer.bias)
        return factorized

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.expand(self.project(inputs))

    def dense_weight(self) -> torch.Tensor:
        """The (out, in) matrix this layer applies, ``U_k·diag(S_k) @ Vh_k``."""
        return self.expand.weight @ self.project.weight

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, rank={self.rank}"


def truncate_layer(model: nn.Module, layer_name: str, rank: int) -> nn.Module:
    """A copy of ``model`` whose ``layer_name`` weight is its rank-``rank`` SVD truncation.

    The shape is unchanged and every other parameter (biases included) is copied: unlike the
    original experiment, nothing is left at its random initialisation. 04_truncate writes it
    out: ``copy.deepcopy`` the model, then copy ``W_k`` into the weight under ``no_grad``.
    """
    weight = linear_layer(model, layer_name).weight
    check_rank(rank, weight.shape)
    left, right = decompose(weight).folded_factors(rank)
    compressed = copy.deepcopy(model)
    with torch.no_grad():
        linear_layer(compressed, layer_name).weight.copy_(left @ right)
    return compressed


def factorize_layer(
    model: nn.Module, layer_name: str, rank: int, decomposition: Decomposition | None = None
) -> nn.Module:
    """A copy of ``model`` with ``layer_name`` replaced by a rank-``rank`` FactorizedLinear
    (written out by hand in 05_parameter_accounting)."""
    replacement = FactorizedLinear.from_linear(linear_layer(model, layer_name), rank, decomposition)
    compressed = copy.deepcopy(model)
    _replace_module(compressed, layer_name, replacement)
    return compressed


def factorize_layers(
    model: nn.Module,
    ranks: dict[str, int],
    factorizer: Callable[[str, nn.Linear, int], nn.Module] | None = None,
) -> nn.Module:
    """A copy of ``model`` with each named linear layer factorized at its given rank.

    ``factorizer(name, layer, rank)`` builds each replacement; by default the layer's plain SVD
    (``FactorizedLinear.from_linear``). Every rank is checked here, before anything is built, so
    a factorizer only ever sees valid ranks.
    """
    for name, rank in ranks.items():
        check_rank(rank, linear_layer(model, name).weight.shape)
    compressed = copy.deepcopy(model)
    for name, rank in ranks.items():
        layer = linear_layer(model, name)
        replacement = (
            factorizer(name, layer, rank)
            if factorizer
            else FactorizedLinear.from_linear(layer, rank)
        )
        _replace_module(compressed, name, replacement)
    return compressed
