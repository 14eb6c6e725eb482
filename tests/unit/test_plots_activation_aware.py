"""plots.activation_aware: the caller's title, one line per method, the marked ranks."""

import torch

from course_utils.plots.activation_aware import (
    accuracy_by_rank,
    normalized_spectra_by_rank,
    output_error_by_rank,
)

TITLE = "a finding measured on this run"


def test_spectra_start_at_one_and_keep_the_callers_title():
    figure = normalized_spectra_by_rank(
        {"W": torch.tensor([4.0, 2.0, 1.0]), "W·L": torch.tensor([10.0, 1.0, 0.1])}, TITLE
    )
    assert figure.layout.title.text == TITLE
    assert [trace.y[0] for trace in figure.data] == [1.0, 1.0]
    assert figure.layout.yaxis.type == "log"


def test_output_errors_are_percentages_with_the_given_styles():
    figure = output_error_by_rank(
        {"plain": [0.9, 0.5, 0.0], "whitened": [0.5, 0.2, 0.0]},
        TITLE,
        {"whitened": ("#000000", "dot")},
    )
    assert figure.layout.title.text == TITLE
    assert list(figure.data[0].y) == [90.0, 50.0, 0.0]
    assert figure.data[1].line.color == "#000000" and figure.data[1].line.dash == "dot"
    assert list(figure.data[0].x) == [1, 2, 3]


def test_accuracy_by_rank_marks_each_methods_rank_on_its_line():
    curves = {"plain": [0.2, 0.8, 0.95], "whitened": [0.1, 0.9, 0.96]}
    figure = accuracy_by_rank(curves, 0.96, {"plain": 3, "whitened": 2}, TITLE)
    assert figure.layout.title.text == TITLE
    markers = [trace for trace in figure.data if trace.mode == "markers"]
    assert [(m.x[0], round(m.y[0], 3)) for m in markers] == [(3, 95.0), (2, 90.0)]
    assert markers[0].marker.color == figure.data[0].line.color
