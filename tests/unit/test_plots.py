"""Figure builders: data on labelled axes, log axes that say so and read in whole numbers,
clear errors."""

from __future__ import annotations

import pytest
import torch

from course_utils import plots
from course_utils.seeds import spread


def test_log_ticks_cover_the_range_with_whole_labels():
    assert plots.log_ticks(1, 500) == [1, 2, 5, 10, 20, 50, 100, 200, 500]
    assert plots.log_ticks(3, 40) == [2, 5, 10, 20, 50]
    assert plots.log_ticks(2e-9, 0.2) == pytest.approx([10.0**n for n in range(-9, 1)])


def test_log_ticks_refuse_a_range_a_log_axis_cannot_show():
    with pytest.raises(ValueError, match="0 < low <= high"):
        plots.log_ticks(0, 10)
    with pytest.raises(ValueError, match="0 < low <= high"):
        plots.log_ticks(5, 2)


def test_log_axis_labels_every_tick_in_full():
    figure = plots.accuracy_vs_rank([1, 10, 100, 500], [0.2, 0.9, 0.95, 0.96], 0.96, "t")
    axis = figure.layout.xaxis
    assert axis.type == "log"
    assert "500" in axis.ticktext and "5" in axis.ticktext
    with pytest.raises(ValueError, match="'x' or 'y'"):
        plots.log_axis(figure, "z", 1, 10)


SIGMA = torch.linspace(5, 0.1, 20)
TWO_BY_TWO = torch.tensor([[1.5, 1.0], [0.25, 1.0]])
BUILDERS = {
    "training_curve": lambda t: plots.training_curve(
        torch.tensor([64, 128]), torch.tensor([0.5, 0.6]), t
    ),
    "scree_plot": lambda t: plots.scree_plot({"a": SIGMA}, t, log_scale=True),
    "explained_variance_figure": lambda t: plots.explained_variance_figure(
        torch.linspace(0.1, 1, 20), t, {"50%": 9}
    ),
    "accuracy_vs_rank": lambda t: plots.accuracy_vs_rank([1, 2], [0.5, 0.9], 0.95, t),
    "reconstruction_error_figure": lambda t: plots.reconstruction_error_figure(
        [1, 2], [0.5, 0.4], [0.5, 0.4], t
    ),
    "storage_figure": lambda t: plots.storage_figure(
        [1, 2], {"a": [10, 20], "b": [5, 10]}, 100, {"a": 1, "b": 2}, t
    ),
    "fine_tune_figure": lambda t: plots.fine_tune_figure(
        {"a": ([64, 256], [0.9, 0.92])}, 0.96, t, untuned_accuracy=0.88
    ),
    "accuracy_budget_figure": lambda t: plots.accuracy_budget_figure(
        {"a": ([1, 5], [spread([0.9, 0.91]), spread([0.95, 0.96])])},
        spread([0.96, 0.97]),
        t,
    ),
    "normalized_spectra_figure": lambda t: plots.normalized_spectra_figure(
        {"a": SIGMA}, t, {"a": ("#000000", "dot")}
    ),
    "variance_vs_parameters_figure": lambda t: plots.variance_vs_parameters_figure(
        {"a": ([0.1, 0.5], [0.4, 0.9])}, t
    ),
    "compression_quality_figure": lambda t: plots.compression_quality_figure(
        {"a": ([1e6, 2e6], [0.8, 0.9], [0.5, 0.6])}, 2e6, t
    ),
    "digit_grid": lambda t: plots.digit_grid(torch.rand(2, 784), ["a", "b"], t),
    "svd_steps_figure": lambda t: plots.svd_steps_figure(*torch.linalg.svd(TWO_BY_TWO), t),
}


# figures of pictures (digits, the steps of an SVD in the plane) rather than of measurements
PICTURES = {"digit_grid", "svd_steps_figure"}


def _axes(figure) -> dict:
    layout = figure.layout.to_plotly_json()
    return {key: layout[key] for key in layout if key.startswith(("xaxis", "yaxis"))}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_builder_draws_the_data_on_axes_that_name_their_scale(name):
    figure = BUILDERS[name]("t")
    points = [len(trace.x if trace.x is not None else trace.z) for trace in figure.data]
    assert points and max(points) > 0, f"{name} draws nothing"
    for key, axis in _axes(figure).items():
        title = axis.get("title", {}).get("text") or ""
        assert title or name in PICTURES, f"{name}: {key} has no title"
        says_log = "log scale" in title
        assert says_log == (axis.get("type") == "log"), (
            f"{name}: {key} is titled {title!r} but its type is {axis.get('type')!r}"
        )


def test_every_public_builder_is_covered():
    builders = {name for name in plots.__all__ if name.endswith(("_figure", "_plot", "_curve"))}
    builders |= {"accuracy_vs_rank", "digit_grid"}
    assert builders == set(BUILDERS)


def test_storage_figure_marks_each_break_even_in_its_layouts_colour():
    figure = plots.storage_figure(
        [1, 2, 3], {"three": [1, 4, 9], "two": [1, 2, 3]}, 5, {"three": 2, "two": 3}, "t"
    )
    lines = [shape for shape in figure.layout.shapes if shape.x0 == shape.x1]
    assert [line.x0 for line in lines] == [2, 3]
    assert [line.line.color for line in lines] == [trace.line.color for trace in figure.data]
    assert {a.text for a in figure.layout.annotations} >= {"k = 2", "k = 3", "dense fc1: 5"}
    with pytest.raises(ValueError, match="not in series"):
        plots.storage_figure([1], {"a": [1]}, 5, {"b": 1}, "t")


def test_svd_steps_end_on_the_ellipse_whose_semi_axes_are_the_singular_values():
    U, S, Vh = torch.linalg.svd(TWO_BY_TWO)
    figure = plots.svd_steps_figure(U, S, Vh, "t")
    last = [trace for trace in figure.data if trace.xaxis == "x4"]
    ellipse = torch.tensor([list(last[0].x), list(last[0].y)], dtype=torch.float64)
    radii = ellipse.norm(dim=0)
    # 97 points on the circle: the sampled extremes lie within half a percent of the axes
    assert radii.max() == pytest.approx(float(S[0]), rel=5e-3)
    assert radii.min() == pytest.approx(float(S[1]), rel=5e-3)
    ends = torch.tensor([[trace.x[1], trace.y[1]] for trace in last[1:]], dtype=torch.float64)
    expected = (TWO_BY_TWO @ Vh.T).T.to(torch.float64)  # A v_i = σ_i u_i
    assert torch.allclose(ends, expected, atol=1e-5)
    with pytest.raises(ValueError, match="2×2"):
        plots.svd_steps_figure(torch.eye(3), torch.ones(3), torch.eye(3), "t")


def test_fine_tune_figure_draws_no_fine_tuning_as_a_line_and_refuses_zero_samples():
    figure = plots.fine_tune_figure({"a": ([64, 256], [0.9, 0.92])}, 0.96, "t", 0.88)
    assert list(figure.data[0].x) == [64, 256]
    lines = sorted(shape.y0 for shape in figure.layout.shapes)
    assert lines == pytest.approx([88, 96])
    assert figure.layout.xaxis.type == "log"
    with pytest.raises(ValueError, match="untuned_accuracy"):
        plots.fine_tune_figure({"a": ([0, 64], [0.88, 0.9])}, 0.96, "t")


def test_allocation_figure_draws_one_panel_per_budget_and_one_line_per_kind():
    from course_utils.plots.allocation import allocation_figure

    kept = {
        "90%": {"query": [1.0, 1.0], "FFN in (384→1536)": [0.6, 0.5]},
        "70%": {"query": [0.5, 0.4], "FFN in (384→1536)": [0.3, 0.2]},
    }
    figure = allocation_figure(kept, "t", layers=[1, 2])
    assert len(figure.data) == 4 and [t.showlegend for t in figure.data] == [
        True,
        True,
        False,
        False,
    ]
    assert [a.text for a in figure.layout.annotations] == ["90%", "70%"]
