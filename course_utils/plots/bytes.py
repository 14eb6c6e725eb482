"""Accuracy against bytes for every storage format, and the latency of the formats that have a
fast kernel (10_bytes_not_parameters)."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from course_utils.plots.accuracy import accuracy_budget_figure
from course_utils.plots.style import as_float32, styled
from course_utils.seeds import Spread, select, spread_of, summarize
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


FAMILY_COLOURS = {
    "int": "#1f77b4",
    "SVD": "#2ca02c",
    "whitened": "#17becf",
    "pruning": "#ff7f0e",
    "hidden": "#9467bd",
}


def accuracy_bytes_figure(
    rows: list[dict],
    methods: list[str],
    reference: Spread,
    full_bytes: int,
    title: str,
) -> go.Figure:
    """Test error against the bytes each format uses (as % of ``full_bytes``), from rows with
    ``seed``, ``method``, ``bytes`` and ``accuracy``: one colour per family (the method's first
    word), dashed for methods ending in "+ fine-tune", dotted for GPTQ and float32 variants.
    Rows repeating a (seed, method, bytes) point, one knob chosen at two budgets, count once."""
    distinct = list({(r["seed"], r["method"], r["bytes"]): r for r in rows}.values())
    by_bytes = summarize(distinct, "accuracy", by=("method", "bytes"))
    curves, styles = {}, {}
    for method in methods:
        sizes = sorted(row["bytes"] for row in select(by_bytes, method=method))
        spreads = [spread_of(by_bytes, method=method, bytes=size) for size in sizes]
        curves[method] = ([100 * size / full_bytes for size in sizes], spreads)
        plain = "dot" if "GPTQ" in method or "float32" in method else "solid"
        dash = "dash" if method.endswith("fine-tune") else plain
        styles[method] = (FAMILY_COLOURS.get(method.split()[0].rstrip(","), "#7f7f7f"), dash)
    return accuracy_budget_figure(
        curves, reference, title, styles, x_title="bytes of fc1 (% of float32, log scale)"
    )
