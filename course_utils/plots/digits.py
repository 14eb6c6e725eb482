"""28×28 images in a grid: digits, weight patterns, singular vectors (01_train, 02_spectrum)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import torch

from course_utils.plots.style import as_float32


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
