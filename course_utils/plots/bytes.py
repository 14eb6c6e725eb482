"""Latency of the storage formats that have a fast kernel (10_bytes_not_parameters); accuracy
against bytes reuses :func:`course_utils.plots.accuracy.accuracy_budget_figure`."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from course_utils.plots.style import as_float32, styled
from course_utils.timing import Timing


def latency_figure(timings: dict[int, dict[str, Timing]], title: str) -> go.Figure:
    """One panel per batch size (``timings[batch][format]``): median time per call in
    milliseconds, bars from the 5th to the 95th percentile."""
    batches = list(timings)
    figure = make_subplots(
        rows=1, cols=len(batches), subplot_titles=[f"batch {batch:,}" for batch in batches]
    )
    for column, batch in enumerate(batches, start=1):
        names = list(timings[batch])
        medians = [timings[batch][name].median * 1e3 for name in names]
        figure.add_trace(
            go.Bar(
                x=names,
                y=as_float32(medians),
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": as_float32(
                        [
                            timings[batch][n].p95 * 1e3 - m
                            for n, m in zip(names, medians, strict=True)
                        ]
                    ),
                    "arrayminus": as_float32(
                        [
                            m - timings[batch][n].p05 * 1e3
                            for n, m in zip(names, medians, strict=True)
                        ]
                    ),
                },
                showlegend=False,
                marker_color="#1f77b4",
            ),
            row=1,
            col=column,
        )
        figure.update_yaxes(title_text="ms per call (median)", row=1, col=column)
    return styled(figure, title, "", "ms per call (median)", width=900, height=440)
