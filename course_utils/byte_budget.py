"""One linear layer compressed to a budget in BYTES, in every storage format the course counts:
quantized weights, SVD factors (float32, float16, int8; plain or whitened), unstructured pruning
(CSR or bitmask indices, float32 or int8 values) and whole hidden units dropped (written out in
10_bytes_not_parameters). Each format's overhead is counted by ``course_utils.accounting``.

A format is a size in bytes as a function of one knob (bits, rank, non-zeros, hidden units) and
a way to build the model at that knob; :func:`compress_to_budget` picks the largest knob that
fits.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils import prune

from course_utils.accounting import (
    bitmask_bytes,
    csr_bytes,
    dense_bytes,
    factor_bytes,
    largest_fitting,
)
from course_utils.activation_aware import InputStatistics, ranked_factors
from course_utils.baselines import make_pruning_permanent, prune_to_nonzeros
from course_utils.compress import FactorizedLinear
from course_utils.models import SimpleNN
from course_utils.quantize import quantize_rows, quantize_rows_gptq

BITS_BY_KNOB = {1: 2, 2: 4, 3: 8}  # the dense formats' knob: 2, 4 or 8 bits


def stored(weight: torch.Tensor, value_bits: int) -> torch.Tensor:
    """``weight`` as a format stores it, back in float32: unchanged (32), rounded to float16
    (16), or quantized per row to ``value_bits`` (2–8) and dequantized. Zeros stay zeros."""
    if value_bits == 32:
        return weight.detach().float().clone()
    if value_bits == 16:
        return weight.detach().half().float()
    return quantize_rows(weight.detach().float(), value_bits).dequantize()


def with_fc1(model: nn.Module, fc1: nn.Module | torch.Tensor) -> nn.Module:
    """A copy of ``model`` whose fc1 is the module ``fc1``, or whose fc1 weight is ``fc1``."""
    compressed = copy.deepcopy(model)
    if isinstance(fc1, nn.Module):
        compressed.fc1 = fc1
    else:
        with torch.no_grad():
            compressed.fc1.weight.copy_(fc1)
    return compressed


def factors_model(
    model: nn.Module, left: torch.Tensor, right: torch.Tensor, value_bits: int = 32
) -> nn.Module:
    """``model`` with fc1 factorized as ``left @ right``, each factor stored in ``value_bits``."""
    layer = FactorizedLinear.from_factors(
        model.fc1, stored(left, value_bits), stored(right, value_bits)
    )
    return with_fc1(model, layer)


def unit_scores(model: SimpleNN) -> torch.Tensor:
    """How much each hidden unit carries: ‖its fc1 row‖ · ‖its fc2 column‖. A ReLU unit can
    scale its input weights by c > 0 and its output weights by 1/c and compute the same
    function; the product does not change, either norm alone would."""
    return model.fc1.weight.detach().norm(dim=1) * model.fc2.weight.detach().norm(dim=0)


def drop_hidden_units(model: SimpleNN, units: int) -> SimpleNN:
    """A narrower ``SimpleNN`` keeping the ``units`` hidden units of largest
    :func:`unit_scores` (their fc1 rows and biases, their fc2 columns, fc2's bias)."""
    hidden = model.fc1.out_features
    if isinstance(units, bool) or not isinstance(units, int) or not 1 <= units <= hidden:
        raise ValueError(f"units must be an integer from 1 to {hidden}, got {units!r}")
    kept = unit_scores(model).topk(units).indices.sort().values
    narrow = SimpleNN(units).to(model.fc1.weight.device)
    with torch.no_grad():
        narrow.fc1.weight.copy_(model.fc1.weight[kept])
        narrow.fc1.bias.copy_(model.fc1.bias[kept])
        narrow.fc2.weight.copy_(model.fc2.weight[:, kept])
        narrow.fc2.bias.copy_(model.fc2.bias)
    return narrow


class QuantizationAwareLinear(nn.Linear):
    """An ``nn.Linear`` whose forward pass uses its weight quantized per row to ``bits``, while
    the gradient flows to the float weight as if rounding were the identity (the
    straight-through estimator): fine-tuning sees the rounding it will be stored with."""

    def __init__(self, layer: nn.Linear, bits: int) -> None:
        super().__init__(layer.in_features, layer.out_features, layer.bias is not None)
        self.to(layer.weight.device)
        self.load_state_dict(layer.state_dict())
        self.bits = bits

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        rounded = quantize_rows(self.weight.detach(), self.bits).dequantize()
        weight = self.weight + (rounded - self.weight).detach()  # value: rounded; gradient: 1
        return nn.functional.linear(inputs, weight, self.bias)


def plain_linear(layer: nn.Linear, weight: torch.Tensor) -> nn.Linear:
    """An ordinary ``nn.Linear`` with ``weight`` and a copy of ``layer``'s bias."""
    plain = nn.Linear(layer.in_features, layer.out_features, layer.bias is not None)
    plain.to(layer.weight.device)
    with torch.no_grad():
        plain.weight.copy_(weight)
        if layer.bias is not None:
            plain.bias.copy_(layer.bias)
    return plain


@dataclass(frozen=True)
class Format:
    """A storage format of one base model's fc1: its family, its bytes as a function of its
    knob, the knob's largest value, ``start(knob)``: the float model a fine-tune trains, and
    ``store(model, knob)``: that model rounded the way the format stores it."""

    family: str
    knob: str
    size: Callable[[int], int]
    largest: int
    start: Callable[[int], nn.Module]
    store: Callable[[nn.Module, int], nn.Module]

    def model(self, knob: int) -> nn.Module:
        """The compressed model at ``knob``, without fine-tuning."""
        return self.store(self.start(knob), knob)


def _pruned_bytes(value_bits: int, rows: int, columns: int) -> Callable[[int], int]:
    def size(nonzeros: int) -> int:
        return min(
            csr_bytes(rows, columns, nonzeros, value_bits),
            bitmask_bytes(rows, columns, nonzeros, value_bits),
        )

    return size


def fc1_formats(model: SimpleNN, statistics: InputStatistics) -> dict[str, Format]:
    """Every format of the chapter for ``model``'s fc1, by name. ``statistics`` of fc1's inputs
    (calibration images) feed the whitened SVD and GPTQ's ``H = XᵀX``. Dense formats' knob
    counts up from the smallest: 1 is 2 bits, 2 is 4 bits, 3 is 8 bits (:data:`BITS_BY_KNOB`).
    The SVDs are computed once here, so every rank is cheap."""
    rows, columns = model.fc1.weight.shape
    smallest = min(rows, columns)
    factors = {
        "plain": ranked_factors(model.fc1.weight, "plain"),
        "whiten": ranked_factors(model.fc1.weight, "whiten", statistics),
    }

    def dense_size(knob: int) -> int:
        return dense_bytes(rows, columns, BITS_BY_KNOB[knob])

    def quantization_aware(knob: int) -> nn.Module:
        return with_fc1(model, QuantizationAwareLinear(model.fc1, BITS_BY_KNOB[knob]))

    def rtn(tuned: nn.Module, knob: int) -> nn.Module:
        weight = stored(tuned.fc1.weight, BITS_BY_KNOB[knob])
        return with_fc1(tuned, plain_linear(tuned.fc1, weight))

    def gptq(tuned: nn.Module, knob: int) -> nn.Module:
        bits = BITS_BY_KNOB[knob]
        quantized = quantize_rows_gptq(tuned.fc1.weight, bits, hessian=statistics.gram)
        return with_fc1(tuned, quantized.dequantize())

    def factorized(method: str) -> Callable[[int], nn.Module]:
        return lambda rank: factors_model(model, *factors[method].truncated(rank))

    def rounded_factors(value_bits: int) -> Callable[[nn.Module, int], nn.Module]:
        def store(tuned: nn.Module, rank: int) -> nn.Module:
            rounded = copy.deepcopy(tuned)
            with torch.no_grad():
                for factor in (rounded.fc1.project.weight, rounded.fc1.expand.weight):
                    factor.copy_(stored(factor, value_bits))
            return rounded

        return store

    def masked(nonzeros: int) -> nn.Module:
        return prune_to_nonzeros(model, "fc1", nonzeros, permanent=False)

    def rounded_fc1(value_bits: int) -> Callable[[nn.Module, int], nn.Module]:
        def store(tuned: nn.Module, knob: int) -> nn.Module:
            if prune.is_pruned(tuned):
                tuned = make_pruning_permanent(tuned)
            return with_fc1(tuned, stored(tuned.fc1.weight, value_bits))

        return store

    def narrowed(units: int) -> nn.Module:
        return drop_hidden_units(model, units)

    def factor_size(value_bits: int) -> Callable[[int], int]:
        return lambda rank: factor_bytes(rows, columns, rank, value_bits)

    def unit_size(value_bits: int) -> Callable[[int], int]:
        return lambda count: dense_bytes(count, columns, value_bits)

    weights = rows * columns
    return {
        "int, round-to-nearest": Format(
            "quantization", "bits", dense_size, 3, quantization_aware, rtn
        ),
        "int, GPTQ": Format("quantization", "bits", dense_size, 3, lambda _: model, gptq),
        "SVD, float32": Format(
            "SVD", "rank", factor_size(32), smallest, factorized("plain"), rounded_factors(32)
        ),
        "SVD, float16": Format(
            "SVD", "rank", factor_size(16), smallest, factorized("plain"), rounded_factors(16)
        ),
        "SVD, int8": Format(
            "SVD", "rank", factor_size(8), smallest, factorized("plain"), rounded_factors(8)
        ),
        "whitened SVD, int8": Format(
            "whitened SVD",
            "rank",
            factor_size(8),
            smallest,
            factorized("whiten"),
            rounded_factors(8),
        ),
        "pruning, float32": Format(
            "pruning",
            "non-zeros",
            _pruned_bytes(32, rows, columns),
            weights,
            masked,
            rounded_fc1(32),
        ),
        "pruning, int8": Format(
            "pruning",
            "non-zeros",
            _pruned_bytes(8, rows, columns),
            weights,
            masked,
            rounded_fc1(8),
        ),
        "hidden units, float32": Format(
            "hidden units", "units", unit_size(32), rows, narrowed, rounded_fc1(32)
        ),
        "hidden units, int8": Format(
            "hidden units", "units", unit_size(8), rows, narrowed, rounded_fc1(8)
        ),
    }


def knob_for_budget(form: Format, budget: int, name: str = "this format") -> int:
    """The largest knob of ``form`` whose bytes fit ``budget``; a ``ValueError`` naming the
    smallest budget the format can reach when none fits."""
    return largest_fitting(form.size, form.largest, budget, name)


def budget_rows(
    model: SimpleNN,
    statistics: InputStatistics,
    budgets: dict[float, int],
    evaluate: Callable[[nn.Module], float],
    fine_tuned: dict[float, list[str]] | None = None,
    tune: Callable[[nn.Module], nn.Module] | None = None,
) -> list[dict]:
    """One row per format and budget (``budgets``: share of the dense bytes → bytes) that the
    format can reach: ``method``, ``share``, ``bytes``, ``knob`` and ``evaluate(model)`` as
    ``accuracy``; plus a "<name> + fine-tune" row for each name in ``fine_tuned[share]``, stored
    after ``tune(start)``. A knob two budgets share is evaluated once."""
    formats = fc1_formats(model, statistics)
    rows, untrained = [], {}
    for share, budget in budgets.items():
        for name, form in formats.items():
            if form.size(1) > budget:
                continue  # the format cannot get this small
            knob = knob_for_budget(form, budget, name)
            if (name, knob) not in untrained:
                untrained[name, knob] = evaluate(form.model(knob))
            row = {"share": share, "bytes": form.size(knob), "knob": knob}
            rows.append({**row, "method": name, "accuracy": untrained[name, knob]})
            if name in (fine_tuned or {}).get(share, []):
                tuned = form.store(tune(form.start(knob)), knob)
                rows.append({**row, "method": f"{name} + fine-tune", "accuracy": evaluate(tuned)})
    return rows
