"""fc1 at a byte budget: every format fits its budget, narrowing keeps what it keeps, the
straight-through layer passes gradients through rounding, the figures build."""

import pytest
import torch

from course_utils.accounting import dense_bytes
from course_utils.activation_aware import InputStatistics
from course_utils.byte_budget import (
    QuantizationAwareLinear,
    budget_rows,
    drop_hidden_units,
    fc1_formats,
    knob_for_budget,
    stored,
)
from course_utils.models import SimpleNN
from course_utils.plots.bytes import accuracy_bytes_figure, latency_figure
from course_utils.seeds import spread
from course_utils.timing import Timing


@pytest.fixture(scope="module")
def model_and_formats():
    torch.manual_seed(0)
    model = SimpleNN().eval()
    statistics = InputStatistics(784)
    statistics.add(torch.rand(1_000, 784))
    return model, fc1_formats(model, statistics)


def test_every_format_fits_its_budget_and_the_next_knob_does_not(model_and_formats):
    _, formats = model_and_formats
    images = torch.rand(8, 1, 28, 28)
    for budget in (15_680, 99_000, 400_000):
        for name, form in formats.items():
            if form.size(1) > budget:
                with pytest.raises(ValueError, match="needs at least"):
                    knob_for_budget(form, budget, name)
                continue
            knob = knob_for_budget(form, budget, name)
            assert form.size(knob) <= budget, name
            assert knob == form.largest or form.size(knob + 1) > budget, name
            assert form.model(knob)(images).shape == (8, 10), name


def test_dense_formats_cannot_go_below_two_bits(model_and_formats):
    _, formats = model_and_formats
    smallest = dense_bytes(500, 784, 2)
    with pytest.raises(ValueError, match=f"at least {smallest:,} bytes"):
        knob_for_budget(formats["int, GPTQ"], smallest - 1)
    assert knob_for_budget(formats["int, GPTQ"], smallest) == 1


def test_stored_rounds_as_the_format_stores():
    weight = torch.tensor([[0.1, -0.7, 0.0]])
    assert torch.equal(stored(weight, 32), weight)
    assert torch.equal(stored(weight, 16), weight.half().float())
    assert stored(weight, 8)[0, 2] == 0  # zeros stay zeros (pruned weights)


def test_dropping_no_unit_keeps_the_function_and_dropping_keeps_the_strongest():
    torch.manual_seed(1)
    model = SimpleNN(20).eval()
    images = torch.rand(5, 1, 28, 28)
    assert torch.allclose(drop_hidden_units(model, 20)(images), model(images), atol=1e-6)
    with torch.no_grad():
        model.fc1.weight[7] *= 100  # unit 7 now carries the most
    narrow = drop_hidden_units(model, 1)
    assert torch.equal(narrow.fc1.weight[0], model.fc1.weight[7])
    assert torch.equal(narrow.fc2.weight[:, 0], model.fc2.weight[:, 7])
    for units in (0, 21, 2.0):
        with pytest.raises(ValueError, match="from 1 to 20"):
            drop_hidden_units(model, units)


def test_quantization_aware_linear_computes_with_rounded_weights_and_passes_gradients():
    layer = torch.nn.Linear(6, 3)
    aware = QuantizationAwareLinear(layer, 2)
    inputs = torch.randn(4, 6)
    expected = inputs @ stored(layer.weight, 2).T + layer.bias
    assert torch.allclose(aware(inputs), expected, atol=1e-6)
    aware(torch.ones(1, 6)).sum().backward()
    assert torch.equal(aware.weight.grad, torch.ones(3, 6))


def test_figures_build():
    rows = [
        {"seed": seed, "method": method, "bytes": size, "accuracy": 0.9 + 0.01 * seed}
        for seed in range(3)
        for method in ("SVD, int8", "SVD, int8 + fine-tune")
        for size in (1_000, 2_000)
    ]
    figure = accuracy_bytes_figure(
        rows, ["SVD, int8", "SVD, int8 + fine-tune"], spread([0.95, 0.96]), 10_000, "title"
    )
    assert len(figure.data) == 3  # the reference and two methods
    assert figure.data[2].line.dash == "dash"
    timing = Timing(0.002, 0.001, 0.003, 9)
    latency = latency_figure({1: {"a": timing}, 10: {"a": timing}}, "title")
    assert len(latency.data) == 2


def test_budget_rows_cover_every_reachable_format_once_per_budget(model_and_formats):
    model, formats = model_and_formats
    statistics = InputStatistics(784)
    statistics.add(torch.rand(200, 784))
    budgets = {0.01: 15_680, 0.065: 101_920}
    tuned = []
    rows = budget_rows(
        model,
        statistics,
        budgets,
        evaluate=lambda compressed: 0.5,
        fine_tuned={0.065: ["SVD, int8"]},
        tune=lambda start: tuned.append(start) or start,
    )
    reachable = {
        (share, name)
        for share, budget in budgets.items()
        for name, form in formats.items()
        if form.size(1) <= budget
    }
    assert {(row["share"], row["method"]) for row in rows} == reachable | {
        (0.065, "SVD, int8 + fine-tune")
    }
    assert not any(row["method"].startswith("int") for row in rows if row["share"] == 0.01)
    assert all(row["bytes"] <= budgets[row["share"]] for row in rows)
    assert len(tuned) == 1
