"""How a global budget is shared among a transformer's matrices: the kept share of every
matrix, layer by layer, one panel per budget (13_transformer_budget)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from course_utils.plots.style import as_float32, styled

KIND_COLORS = {  # attention in warm colours, the feed-forward pair in greens
    "query": "#ff7f0e",
    "key": "#d62728",
    "value": "#9467bd",
    "attention output": "#8c564b",
    "FFN in (384→1536)": "#2ca02c",
    "FFN out (1536→384)": "#17becf",
}


def allocation_figure(
    kept: dict[str, dict[str, Sequence[float]]], title: str, layers: Sequence[int]
) -> go.Figure:
    """One panel per budget (``kept[budget_label][kind]`` = the share of each layer's dense
    matrix that its factors hold, 1 = left dense), one line per kind of matrix."""
    from plotly.subplots import make_subplots

    figure = make_subplots(
        rows=1,
        cols=len(kept),
        shared_yaxes=True,
        subplot_titles=tuple(kept),
        horizontal_spacing=0.04,
    )
    for column, by_kind in enumerate(kept.values(), start=1):
        for kind, shares in by_kind.items():
            figure.add_trace(
                go.Scatter(
                    x=list(layers),
                    y=as_float32(shares),
                    mode="lines+markers",
                    name=kind,
                    legendgroup=kind,
                    showlegend=column == 1,
                    line={"color": KIND_COLORS.get(kind)},
                ),
                row=1,
                col=column,
            )
    figure = styled(figure, title, "", "kept share of the matrix's weights", width=900, height=460)
    figure.update_xaxes(title_text="encoder layer", tickvals=list(layers))
    figure.update_yaxes(range=[0, 1.05])
    figure.update_layout(
        legend={"x": 0.5, "xanchor": "center", "y": -0.22, "orientation": "h"},
        margin={"b": 110},
    )
    return figure
