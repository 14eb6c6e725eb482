"""Numbers stored against rank, with the dense count and the break-even rank
(05_parameter_accounting)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from course_utils.plots.style import COLORS, styled


def storage_figure(
    ranks: Sequence[int],
    series: dict[str, Sequence[int]],
    dense: int,
    break_even: int,
    title: str,
) -> go.Figure:
    """Numbers stored against rank for several layouts, with the dense count and break-even."""
    figure = go.Figure()
    palette = [COLORS["trained"], COLORS["compressed"], COLORS["random"]]
    for (name, counts), color in zip(series.items(), palette, strict=False):
        figure.add_trace(
            go.Scatter(
                x=np.asarray(ranks, dtype=np.int32),
                y=np.asarray(counts, dtype=np.int64),
                mode="lines",
                name=name,
                line={"color": color},
            )
        )
    figure.add_hline(
        y=dense,
        line={"color": COLORS["reference"], "dash": "dash"},
        annotation_text=f"dense fc1: {dense:,}",
        annotation_position="top left",
    )
    figure.add_vline(
        x=break_even,
        line={"color": COLORS["warning"], "dash": "dot"},
        annotation_text=f"break-even k = {break_even}",
        annotation_position="bottom right",
    )
    return styled(
        figure,
        title,
        "rank k",
        "numbers stored",
    )
