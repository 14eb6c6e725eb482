"""Plain against activation-aware factors of one layer, rank by rank: spectra, output error and
accuracy, one line per method (11_activation_aware). Import from this module directly."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import torch

from course_utils.plots.style import COLORS, as_float32, log_axis, styled

METHOD_COLORS = [COLORS["trained"], COLORS["compressed"], COLORS["random"], COLORS["reference"]]


def _ranks(values: Sequence[float] | torch.Tensor) -> np.ndarray:
    return np.arange(1, len(values) + 1, dtype=np.int32)


def _lines(
    figure: go.Figure,
    curves: dict[str, Sequence[float] | torch.Tensor],
    scale: float,
    styles: dict[str, tuple[str, str]] | None = None,
) -> None:
    for (name, values), color in zip(curves.items(), METHOD_COLORS, strict=False):
        color, dash = (styles or {}).get(name, (color, "solid"))
        figure.add_trace(
            go.Scatter(
                x=_ranks(values),
                y=as_float32(values) * scale,
                mode="lines",
                name=name,
                line={"color": color, "dash": dash},
            )
        )


def normalized_spectra_by_rank(
    spectra: dict[str, Sequence[float] | torch.Tensor], title: str
) -> go.Figure:
    """Each method's singular values divided by its largest, against the index i (log y): the
    decomposed matrices (W, W·L) have different units, their shapes compare."""
    figure = go.Figure()
    relative = {
        name: as_float32(values) / as_float32(values)[0] for name, values in spectra.items()
    }
    _lines(figure, relative, 1.0)
    smallest = min(float(values[values > 0].min()) for values in relative.values())
    log_axis(figure, "y", smallest, 1.0)
    styled(figure, title, "index i of the singular value (largest first)", "σᵢ / σ₁ (log scale)")
    # the curves start at 1 on the left and fall to the right: the bottom left corner is free
    return figure.update_layout(
        legend={"x": 0.01, "xanchor": "left", "y": 0.02, "yanchor": "bottom"}
    )


def output_error_by_rank(
    errors: dict[str, Sequence[float] | torch.Tensor],
    title: str,
    styles: dict[str, tuple[str, str]] | None = None,
) -> go.Figure:
    """Relative output error ‖(W − W_k)X‖ / ‖W X‖ against rank k, one line per curve (both
    axes logarithmic: the errors fall over orders of magnitude); ``styles[name] = (colour,
    dash)`` so that one method's curves on two image sets share a colour."""
    figure = go.Figure()
    _lines(figure, errors, 100.0, styles)
    every = np.concatenate([as_float32(values) for values in errors.values()]) * 100
    positive = every[every > 0]
    log_axis(figure, "x", 1, max(len(values) for values in errors.values()))
    log_axis(figure, "y", float(positive.min()), float(positive.max()))
    styled(
        figure,
        title,
        "rank k of fc1 (log scale)",
        "relative output error of fc1 (%, log scale)",
    )
    return figure.update_layout(
        legend={"x": 0.01, "xanchor": "left", "y": 0.02, "yanchor": "bottom"}
    )


def accuracy_by_rank(
    accuracies: dict[str, Sequence[float] | torch.Tensor],
    base_accuracy: float,
    marked_ranks: dict[str, int],
    title: str,
) -> go.Figure:
    """Test accuracy at every rank k, one line per method (log x), the uncompressed model as a
    dashed line, and a marker at ``marked_ranks[name]`` on each method's line."""
    figure = go.Figure()
    _lines(figure, accuracies, 100.0)
    for (name, values), color in zip(accuracies.items(), METHOD_COLORS, strict=False):
        if name not in marked_ranks:
            continue
        rank = marked_ranks[name]
        figure.add_trace(
            go.Scatter(
                x=[rank],
                y=[float(as_float32(values)[rank - 1]) * 100],
                mode="markers",
                marker={"size": 10, "color": color, "symbol": "circle-open", "line": {"width": 2}},
                name=f"{name}: within half a point from k = {rank}",
            )
        )
    figure.add_hline(
        y=base_accuracy * 100,
        line={"color": COLORS["reference"], "dash": "dash"},
        annotation_text=f"uncompressed: {base_accuracy * 100:.1f}%",
        annotation_position="top left",
    )
    log_axis(figure, "x", 1, max(len(values) for values in accuracies.values()))
    styled(figure, title, "rank k of fc1 (log scale)", "test accuracy (%)", height=460)
    return figure.update_layout(
        legend={"x": 0.99, "xanchor": "right", "y": 0.02, "yanchor": "bottom"}
    )
