"""Numbers stored against rank, with the dense count and each layout's break-even rank
(05_parameter_accounting)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from course_utils.plots.style import COLORS, styled


def storage_figure(
    ranks: Sequence[int],
    series: Mapping[str, Sequence[int]],
    dense: int,
    break_evens: Mapping[str, int],
    title: str,
) -> go.Figure:
    """Numbers stored against rank for several layouts, with the dense count as a line and, for
    each layout named in ``break_evens``, a dotted line at the last rank where it saves storage.

    The legend sits top left, which the rising curves leave empty; the break-even labels sit
    at the top, the first left of its line and the others right of theirs.
    """
    unknown = set(break_evens) - set(series)
    if unknown:
        raise ValueError(f"break_evens names layouts not in series: {sorted(unknown)}")
    figure = go.Figure()
    palette = [COLORS["trained"], COLORS["compressed"], COLORS["random"]]
    colors = dict(zip(series, palette, strict=False))
    for name, counts in series.items():
        figure.add_trace(
            go.Scatter(
                x=np.asarray(ranks, dtype=np.int32),
                y=np.asarray(counts, dtype=np.int64),
                mode="lines",
                name=name,
                line={"color": colors.get(name)},
            )
        )
    figure.add_hline(
        y=dense,
        line={"color": COLORS["reference"], "dash": "dash"},
        annotation_text=f"dense fc1: {dense:,}",
        annotation_position="bottom right",
    )
    for index, (name, rank) in enumerate(sorted(break_evens.items(), key=lambda item: item[1])):
        figure.add_vline(
            x=rank,
            line={"color": colors.get(name), "dash": "dot"},
            annotation_text=f"k = {rank}",
            annotation_position="top left" if index == 0 else "top right",
            annotation_font_color=colors.get(name),
        )
    styled(figure, title, "rank k", "numbers stored")
    return figure.update_layout(legend={"x": 0.01, "xanchor": "left", "y": 0.99, "yanchor": "top"})
