"""Singular values and what they keep: a 2×2 SVD drawn step by step, scree plots, explained
variance, truncation error, spectra of matrices of different sizes (02_spectrum,
03_explained_variance, 04_truncate, 12_transformer)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from course_utils.plots.style import COLORS, as_float32, log_axis, styled


def scree_plot(spectra: dict[str, torch.Tensor], title: str, log_scale: bool = False) -> go.Figure:
    """Figure 2: singular values against their index, one line per named spectrum."""
    figure = go.Figure()
    palette = [COLORS["trained"], COLORS["random"], COLORS["compressed"], COLORS["reference"]]
    for (name, values), color in zip(spectra.items(), palette, strict=False):
        figure.add_trace(
            go.Scatter(
                x=np.arange(1, len(values) + 1, dtype=np.int32),
                y=as_float32(values),
                mode="lines",
                name=name,
                line={"color": color},
            )
        )
    if log_scale:
        every = np.concatenate([as_float32(values) for values in spectra.values()])
        positive = every[every > 0]
        log_axis(figure, "y", float(positive.min()), float(positive.max()))
    return styled(
        figure,
        title,
        "index i of the singular value (largest first)",
        "singular value σᵢ (log scale)" if log_scale else "singular value σᵢ",
    )


def explained_variance_figure(
    cumulative: torch.Tensor, title: str, marked_ranks: dict[str, int] | None = None
) -> go.Figure:
    """Figure 3: cumulative explained variance against rank k, with chosen ranks marked."""
    ranks = np.arange(1, len(cumulative) + 1, dtype=np.int32)
    figure = go.Figure(
        go.Scatter(
            x=ranks,
            y=as_float32(cumulative) * 100,
            mode="lines",
            name="explained variance",
            line={"color": COLORS["trained"]},
        )
    )
    for label, rank in (marked_ranks or {}).items():
        figure.add_trace(
            go.Scatter(
                x=[rank],
                y=[float(cumulative[rank - 1]) * 100],
                mode="markers+text",
                text=[f"{label}: k={rank}"],
                textposition="middle right",
                marker={"size": 9, "color": COLORS["compressed"]},
                showlegend=False,
            )
        )
    return styled(
        figure,
        title,
        "rank k (number of singular values kept)",
        "explained variance (%)",
    )


def reconstruction_error_figure(
    ranks: Sequence[int], measured: Sequence[float], predicted: Sequence[float], title: str
) -> go.Figure:
    """Relative Frobenius error of the rank-k weight, measured and from the tail of σ²."""
    x = np.asarray(ranks, dtype=np.int32)
    measured_points = go.Scatter(
        x=x,
        y=as_float32(measured),
        mode="markers",
        name="measured ‖W − W_k‖_F / ‖W‖_F",
        marker={"color": COLORS["trained"], "size": 6},
    )
    formula_line = go.Scatter(
        x=x,
        y=as_float32(predicted),
        mode="lines",
        name="Eckart–Young: √(Σ_{i>k} σᵢ² / Σ σᵢ²)",
        line={"color": COLORS["reference"], "dash": "dot"},
    )
    figure = go.Figure([measured_points, formula_line])
    styled(
        figure,
        title,
        "rank k of fc1",
        "relative Frobenius error",
    )
    return figure.update_layout(legend={"x": 0.99, "xanchor": "right", "y": 0.98, "yanchor": "top"})


def normalized_spectra_figure(
    spectra: dict[str, torch.Tensor],
    title: str,
    styles: dict[str, tuple[str, str]] | None = None,
) -> go.Figure:
    """Singular values divided by the largest, against rank as a share of the full rank, so
    matrices of different sizes share one picture (log y); ``styles[name] = (colour, dash)``."""
    figure = go.Figure()
    smallest = 1.0
    for name, values in spectra.items():
        values = as_float32(values)
        relative = values / values[0]
        smallest = min(smallest, float(relative[relative > 0].min()))
        figure.add_trace(
            go.Scatter(
                x=np.arange(1, len(values) + 1, dtype=np.float32) / len(values) * 100,
                y=relative,
                mode="lines",
                name=name,
                line=_line(styles, name),
            )
        )
    log_axis(figure, "y", smallest, 1.0)
    styled(
        figure, title, "rank k, % of the full rank min(m, n)", "σ_k / σ_1 (log scale)", height=440
    )
    # the curves start at 1 on the left and fall to the right: the bottom left corner is free
    return figure.update_layout(
        legend={"x": 0.01, "xanchor": "left", "y": 0.02, "yanchor": "bottom"}
    )


def variance_vs_parameters_figure(
    curves: dict[str, tuple[Sequence[float], Sequence[float]]],
    title: str,
    styles: dict[str, tuple[str, str]] | None = None,
) -> go.Figure:
    """Explained variance against the size of the two factors, as % of the dense matrix; a
    factorization only saves parameters left of the 100% line."""
    figure = go.Figure()
    figure.add_vrect(x0=100, x1=200, fillcolor=COLORS["warning"], opacity=0.07, line_width=0)
    figure.add_vline(
        x=100,
        line={"color": COLORS["warning"], "dash": "dot"},
        annotation_text="break-even: no saving to the right",
        annotation_position="bottom right",
    )
    for name, (fractions, variance) in curves.items():
        figure.add_trace(
            go.Scatter(
                x=as_float32(fractions) * 100,
                y=as_float32(variance) * 100,
                mode="lines",
                name=name,
                line=_line(styles, name),
            )
        )
    figure.update_xaxes(range=[0, 200])
    figure.update_yaxes(range=[0, 101])
    return styled(
        figure,
        title,
        "parameters of the factors k·(m + n), % of the dense m·n",
        "explained variance (%)",
        height=460,
    )


def _line(styles: dict[str, tuple[str, str]] | None, name: str) -> dict[str, str]:
    """plotly line settings for ``name``: its (colour, dash) from ``styles``, else plotly's."""
    if not styles or name not in styles:
        return {}
    color, dash = styles[name]
    return {"color": color, "dash": dash}


def svd_steps_figure(
    U: torch.Tensor, singular_values: torch.Tensor, Vh: torch.Tensor, title: str
) -> go.Figure:
    """A 2×2 matrix ``U diag(σ) Vh`` applied to the unit circle in its three steps: ``Vh``
    rotates (or mirrors) it, ``diag(σ)`` stretches it along the axes, ``U`` rotates (or
    mirrors) the ellipse into place. The
    right singular vectors v₁, v₂ are followed through the steps; they end as σ₁u₁ and σ₂u₂,
    the ellipse's semi-axes (02_spectrum)."""
    if U.shape != (2, 2) or Vh.shape != (2, 2) or singular_values.shape != (2,):
        raise ValueError("svd_steps_figure draws the SVD of a 2×2 matrix only")
    turn_in, stretch, turn_out = (
        np.asarray(m.detach().cpu(), dtype=np.float64) for m in (Vh, torch.diag(singular_values), U)
    )
    angles = np.linspace(0, 2 * np.pi, 97)
    circle = np.stack([np.cos(angles), np.sin(angles)])
    followed = turn_in.T  # columns v₁ and v₂
    steps = [np.eye(2), turn_in, stretch @ turn_in, turn_out @ stretch @ turn_in]
    names = [
        "unit circle, v₁ and v₂",
        "after Vᵀ (rotate/mirror)",
        "after Σ (stretch)",
        "after U (rotate/mirror)",
    ]
    figure = make_subplots(rows=1, cols=4, subplot_titles=names, horizontal_spacing=0.05)
    reach = float(singular_values.max()) * 1.15
    for column, step in enumerate(steps, start=1):
        shape = as_float32(step @ circle)
        figure.add_trace(
            go.Scatter(
                x=shape[0],
                y=shape[1],
                mode="lines",
                name="the circle's image",
                line={"color": COLORS["reference"]},
                showlegend=column == 1,
            ),
            row=1,
            col=column,
        )
        ends = step @ followed
        for index, color in enumerate((COLORS["warning"], COLORS["compressed"])):
            figure.add_trace(
                go.Scatter(
                    x=[0, float(ends[0, index])],
                    y=[0, float(ends[1, index])],
                    mode="lines+markers",
                    name=f"v{'₁₂'[index]} and where it goes",
                    line={"color": color, "width": 3},
                    marker={"size": [0, 7]},
                    showlegend=column == 1,
                ),
                row=1,
                col=column,
            )
        suffix = "" if column == 1 else str(column)
        figure.update_xaxes(range=[-reach, reach], row=1, col=column)
        figure.update_yaxes(range=[-reach, reach], scaleanchor=f"x{suffix}", row=1, col=column)
    styled(figure, title, "first coordinate", "second coordinate", width=800, height=330)
    return figure.update_layout(
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -0.25, "yanchor": "top"},
        margin={"l": 70, "r": 20, "t": 80, "b": 90},
    )
