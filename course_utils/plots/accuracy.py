"""Accuracy against what it costs: training, rank, fine-tuning samples, parameter budgets
(01_train, 04_truncate, 06_fine_tune, 07_is_it_worth_it, 12_transformer)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import torch

from course_utils.plots.style import COLORS, as_float32, log_axis, styled
from course_utils.seeds import Spread


def training_curve(
    samples_seen: torch.Tensor, running_accuracy: torch.Tensor, title: str
) -> go.Figure:
    """Figure 1: running training accuracy against the number of samples seen."""
    figure = go.Figure(
        go.Scatter(
            x=as_float32(samples_seen),
            y=as_float32(running_accuracy) * 100,
            mode="lines",
            line={"color": COLORS["trained"]},
            name="running accuracy",
        )
    )
    return styled(
        figure,
        title,
        "training samples seen",
        "running training accuracy (%)",
    )


def accuracy_vs_rank(
    ranks: Sequence[int], accuracies: Sequence[float], base_accuracy: float, title: str
) -> go.Figure:
    """Test accuracy of the rank-k model against k, with the uncompressed model as a line."""
    figure = go.Figure(
        go.Scatter(
            x=np.asarray(ranks, dtype=np.int32),
            y=as_float32(accuracies) * 100,
            mode="lines",
            name="fc1 truncated to rank k",
            line={"color": COLORS["compressed"]},
        )
    )
    figure.add_hline(
        y=base_accuracy * 100,
        line={"color": COLORS["reference"], "dash": "dash"},
        annotation_text=f"uncompressed: {base_accuracy * 100:.1f}%",
        annotation_position="bottom right",
    )
    log_axis(figure, "x", min(ranks), max(ranks))
    return styled(
        figure,
        title,
        "rank k of fc1 (log scale)",
        "test accuracy (%)",
    )


def fine_tune_figure(
    series: dict[str, tuple[Sequence[int], Sequence[float]]],
    base_accuracy: float,
    title: str,
    untuned_accuracy: float | None = None,
) -> go.Figure:
    """Test accuracy against fine-tuning samples (log axis); ``series``: name → (samples,
    accuracies), every budget positive. The uncompressed model and, if given, the compressed one
    before fine-tuning (0 samples, which a log axis cannot show) are horizontal reference lines."""
    every = [s for samples, _ in series.values() for s in samples]
    if not every or min(every) <= 0:
        raise ValueError(
            "fine-tuning budgets must be positive (a log axis has no 0); "
            "pass the accuracy before fine-tuning as untuned_accuracy"
        )
    figure = go.Figure()
    palette = [COLORS["compressed"], COLORS["random"], COLORS["trained"]]
    for (name, (samples, accuracies)), color in zip(series.items(), palette, strict=False):
        figure.add_trace(
            go.Scatter(
                x=np.asarray(samples, dtype=np.int64),
                y=as_float32(accuracies) * 100,
                mode="lines+markers",
                name=name,
                line={"color": color},
            )
        )
    references = [(base_accuracy, "uncompressed", "dash", "top left")]
    if untuned_accuracy is not None:
        references.append((untuned_accuracy, "before fine-tuning", "dot", "bottom right"))
    for value, label, dash, position in references:
        figure.add_hline(
            y=value * 100,
            line={"color": COLORS["reference"], "dash": dash},
            annotation_text=f"{label}: {value * 100:.1f}%",
            annotation_position=position,
        )
    log_axis(figure, "x", min(every), max(every))
    styled(figure, title, "fine-tuning samples (log scale)", "test accuracy (%)", height=460)
    # below the plot: the curves climb across the whole width
    return figure.update_layout(
        legend={"x": 0, "xanchor": "left", "y": -0.18, "yanchor": "top", "orientation": "h"},
        margin={"b": 100},
    )


def accuracy_budget_figure(
    curves: dict[str, tuple[Sequence[float], Sequence[Spread]]],
    reference: Spread,
    title: str,
    styles: dict[str, tuple[str, str]] | None = None,
    x_title: str = "share of fc1's weights kept (%, log scale)",
) -> go.Figure:
    """Test error (100% − accuracy; mean ± standard deviation over seeds) against a budget, one
    line per method, both axes logarithmic so that 50% and 3% error both stay readable;
    ``curves[name] = (budgets, spreads)``, ``styles[name] = (colour, dash)`` so that methods of
    one family share a colour; ``reference`` (the uncompressed model) is a dotted line and a band.
    The legend sits below the plot, away from the data."""
    figure = go.Figure()
    error = (1 - reference.mean) * 100
    figure.add_hrect(
        y0=error - reference.std * 100,
        y1=error + reference.std * 100,
        fillcolor=COLORS["reference"],
        opacity=0.2,
        line_width=0,
    )
    every_budget = [budget for budgets, _ in curves.values() for budget in budgets]
    figure.add_trace(
        go.Scatter(  # a trace, not add_hline: it gets a legend entry
            x=as_float32([min(every_budget), max(every_budget)]),
            y=as_float32([error, error]),
            mode="lines",
            name=f"uncompressed: {error:.1f}% ± {reference.std * 100:.1f}% error",
            line={"color": COLORS["reference"], "dash": "dot"},
        )
    )
    for name, (budgets, spreads) in curves.items():
        color, dash = (styles or {}).get(name, (None, "solid"))
        figure.add_trace(
            go.Scatter(
                x=as_float32(budgets),
                y=as_float32([(1 - s.mean) * 100 for s in spreads]),
                error_y={"type": "data", "array": as_float32([s.std * 100 for s in spreads])},
                customdata=as_float32([[s.min * 100, s.max * 100] for s in spreads]),
                hovertemplate="%{x:.3g}: %{y:.2f}% error (accuracy from "
                "%{customdata[0]:.2f}% to %{customdata[1]:.2f}%)",
                mode="lines+markers",
                name=name,
                line={"color": color, "dash": dash},
            )
        )
    log_axis(figure, "x", min(every_budget), max(every_budget))
    every_error = [(1 - s.mean) * 100 for _, spreads in curves.values() for s in spreads]
    log_axis(figure, "y", min(every_error), max(every_error))
    styled(
        figure,
        title,
        x_title,
        "test error (%), mean ± std over seeds (log scale)",
        height=620,
    )
    return figure.update_layout(
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -0.18, "yanchor": "top"},
        margin={"b": 170},
    )


def compression_quality_figure(
    results: dict[str, tuple[Sequence[float], Sequence[float], Sequence[float]]],
    original_parameters: float,
    title: str,
) -> go.Figure:
    """Two panels, mean cosine and top-1 retrieval agreement against the model's parameters
    (millions), one line per method; ``results[name] = (parameters, cosines, top1s)``."""
    from plotly.subplots import make_subplots

    figure = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("cosine to the original embedding", "top-1 neighbour agreement"),
    )
    palette = [COLORS["reference"], COLORS["compressed"], COLORS["trained"], COLORS["random"]]
    for (name, (parameters, cosines, top1s)), color in zip(results.items(), palette, strict=False):
        millions = as_float32(parameters) / 1e6
        for column, values in ((1, cosines), (2, top1s)):
            figure.add_trace(
                go.Scatter(
                    x=millions,
                    y=as_float32(values),
                    mode="lines+markers",
                    name=name,
                    legendgroup=name,
                    showlegend=column == 1,
                    line={"color": color},
                ),
                row=1,
                col=column,
            )
    for column in (1, 2):
        figure.add_vline(
            x=original_parameters / 1e6,
            line={"color": COLORS["reference"], "dash": "dot"},
            annotation_text=f"original: {original_parameters / 1e6:.1f} M",
            annotation_position="bottom left",
            row=1,
            col=column,
        )
    figure.update_yaxes(range=[0, 1.02])
    figure.update_xaxes(title_text="parameters in the model (millions)")
    figure = styled(figure, title, "parameters in the model (millions)", "", width=900, height=440)
    figure.update_yaxes(title_text="mean cosine", row=1, col=1)
    figure.update_yaxes(title_text="share of queries", row=1, col=2)
    figure.update_layout(legend={"x": 0.5, "xanchor": "center", "y": -0.25, "orientation": "h"})
    figure.update_layout(margin={"b": 110})
    return figure
