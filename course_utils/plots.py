"""plotly figure builders for the course: small figures (float32 curves), titles that state the
finding, labelled axes (first used in 01_train). Builders only draw: they never train or load."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import torch

COLORS = {
    "trained": "#1f77b4",
    "random": "#ff7f0e",
    "compressed": "#2ca02c",
    "reference": "#7f7f7f",
    "warning": "#d62728",
}


def as_float32(values: torch.Tensor | Sequence[float] | np.ndarray) -> np.ndarray:
    """Plot data as a float32 array, which keeps the stored figure JSON small."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=np.float32)


def styled(
    figure: go.Figure,
    title: str,
    x_title: str,
    y_title: str,
    width: int = 760,
    height: int = 420,
) -> go.Figure:
    """Apply the course's layout: a title stating the finding, axis titles, a compact size."""
    figure.update_layout(
        title={"text": title, "x": 0.02, "xanchor": "left"},
        xaxis_title=x_title,
        yaxis_title=y_title,
        width=width,
        height=height,
        margin={"l": 70, "r": 20, "t": 60, "b": 60},
        legend={"x": 0.99, "xanchor": "right", "y": 0.02, "yanchor": "bottom"},
    )
    return figure


def digit_grid(
    images: torch.Tensor,
    captions: Sequence[str],
    title: str,
    columns: int = 8,
    colorscale: str = "gray_r",
    symmetric: bool = False,
) -> go.Figure:
    """28×28 images in a grid of heatmaps with a caption above each (digits or weight patterns)."""
    from plotly.subplots import make_subplots

    count = len(images)
    rows = -(-count // columns)
    figure = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=list(captions),
        horizontal_spacing=0.01,
        vertical_spacing=0.08 if rows > 1 else 0.02,
    )
    for index, image in enumerate(images):
        pixels = as_float32(image.reshape(28, 28)).round(3)
        bound = float(np.abs(pixels).max()) if symmetric else None
        figure.add_trace(
            go.Heatmap(
                z=pixels[::-1],
                colorscale=colorscale,
                showscale=False,
                zmin=-bound if symmetric else None,
                zmax=bound if symmetric else None,
                hoverinfo="skip",
            ),
            row=index // columns + 1,
            col=index % columns + 1,
        )
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False, scaleanchor="x")
    figure.update_annotations(font_size=11)
    figure.update_layout(
        title={"text": title, "x": 0.02},
        width=90 * columns + 40,
        height=100 * rows + 70,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
    )
    return figure
