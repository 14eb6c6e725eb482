"""The course's figure style: colours, layout, readable log axes and compact data (01_train)."""

from __future__ import annotations

import math
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


def log_ticks(low: float, high: float) -> list[float]:
    """Tick values 1, 2, 5 × 10ⁿ covering ``[low, high]``, so that a log axis shows whole labels
    ("200", "500") instead of bare minor digits; over more than six decades, powers of ten only,
    so that the labels do not overlap."""
    if not 0 < low <= high:
        raise ValueError(f"a log axis needs 0 < low <= high, got {low} and {high}")
    mantissas, slack = ((1,), 10) if high / low > 1e6 else ((1, 2, 5), 1.5)
    ticks = []
    for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for mantissa in mantissas:
            value = mantissa * 10.0**exponent
            if low / slack <= value <= high * slack:
                ticks.append(value)
    return ticks


def log_axis(figure: go.Figure, axis: str, low: float, high: float) -> go.Figure:
    """Make ``axis`` ("x" or "y") logarithmic with the ticks of :func:`log_ticks`."""
    values = log_ticks(low, high)
    settings = {"type": "log", "tickvals": values, "ticktext": [f"{v:,g}" for v in values]}
    if axis == "x":
        return figure.update_xaxes(**settings)
    if axis == "y":
        return figure.update_yaxes(**settings)
    raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
