"""The rank sliders: moving the slider runs the same code as the static cells."""

import pytest

from course_utils.accounting import svd_storage
from course_utils.data import load_mnist
from course_utils.rank_sweep import RankSweep
from course_utils.svd import explained_variance, singular_values
from course_utils.widgets import TruncationSlider, VarianceSlider


def test_variance_slider_follows_its_value(model):
    sigma = singular_values(model.fc1.weight)
    explorer = VarianceSlider(sigma, rank=10)
    assert explorer.report.rank == 10
    explorer.slider.value = 123
    expected = explained_variance(sigma)[122].item()
    assert explorer.report.explained_variance == pytest.approx(expected)
    assert explorer.marker.x == (123,)
    assert explorer.figure.layout.title.text == f"Rank 123 keeps {expected:.1%} of the variance"
    assert f"{expected:.1%}" in explorer.readout.value


def test_truncation_slider_reports_accuracy_and_storage(model):
    test = load_mnist(False).subset(500)
    sweep = RankSweep(model, test)
    explorer = TruncationSlider(sweep, 0.1, [1, 10, 500], sweep.accuracies([1, 10, 500]), rank=10)
    explorer.slider.value = 42
    report = explorer.report
    assert report.rank == 42
    assert report.accuracy == sweep.accuracy(42)
    assert report.stored_share == svd_storage(500, 784, 42) / 392_000
    assert report.factorized_share == (42 * 1284 + 500) / 392_500
    assert explorer.figure.layout.title.text == f"Rank 42: test accuracy {report.accuracy:.2%}"
    readout = explorer.readout.value
    assert "<b>rank 42</b>" in readout and f"<b>{report.accuracy:.2%}</b>" in readout
    assert f"<b>{report.stored_share:.2%}</b>" in readout


def test_sliders_refuse_a_starting_rank_outside_the_layer(model):
    with pytest.raises(ValueError, match="from 1 to 500"):
        VarianceSlider(singular_values(model.fc1.weight), rank=0)


def test_a_slider_shows_as_the_widget_with_its_figure_beside_it(model):
    # JupyterLab shows the widget; a stored notebook (no widget state) shows the figure, whose
    # PNG `tools.run_course --in-place` adds.
    explorer = VarianceSlider(singular_values(model.fc1.weight), rank=7)
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    figure = bundle["application/vnd.plotly.v1+json"]
    assert figure["layout"]["title"]["text"] == explorer.figure.layout.title.text
    assert figure["data"][-1]["x"] == [7]
