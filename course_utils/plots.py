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


def training_curve(samples_seen: torch.Tensor, running_accuracy: torch.Tensor) -> go.Figure:
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
    final = float(running_accuracy[-1]) * 100
    above = (running_accuracy > 0.9).nonzero()
    crossing = (
        f"passes 90% after {int(samples_seen[above[0, 0]]):,} samples and " if len(above) else ""
    )
    return styled(
        figure,
        f"Running training accuracy {crossing}ends at {final:.1f}%",
        "training samples seen",
        "running training accuracy (%)",
    )


def scree_plot(spectra: dict[str, torch.Tensor], log_scale: bool = False) -> go.Figure:
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
    figure.update_yaxes(type="log" if log_scale else "linear")
    scale = "log scale" if log_scale else "linear scale"
    return styled(
        figure,
        f"Trained fc1's singular values fall off a cliff; random ones do not ({scale})",
        "index i of the singular value (largest first)",
        "singular value σᵢ",
    )


def explained_variance_figure(
    cumulative: torch.Tensor, marked_ranks: dict[str, int] | None = None
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
    half = int(np.searchsorted(as_float32(cumulative), 0.5)) + 1
    return styled(
        figure,
        f"Half of fc1's variance sits in its top {half} directions; the rest is spread thin",
        "rank k (number of singular values kept)",
        "explained variance (%)",
    )


def accuracy_vs_rank(
    ranks: Sequence[int], accuracies: Sequence[float], base_accuracy: float
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
    within = next(
        (r for r, a in zip(ranks, accuracies, strict=True) if a >= base_accuracy - 0.005), None
    )
    finding = f"within half a point of the original from rank {within}" if within else ""
    figure.update_xaxes(type="log")
    return styled(
        figure,
        f"Accuracy recovers quickly with rank: {finding}",
        "rank k of fc1 (log scale)",
        "test accuracy (%)",
    )


def reconstruction_error_figure(
    ranks: Sequence[int], measured: Sequence[float], predicted: Sequence[float]
) -> go.Figure:
    """Relative Frobenius error of the rank-k weight, measured and from the tail of σ²."""
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=np.asarray(ranks, dtype=np.int32),
            y=as_float32(measured),
            mode="markers",
            name="measured ‖W − W_k‖_F / ‖W‖_F",
            marker={"color": COLORS["trained"], "size": 6},
        )
    )
    figure.add_trace(
        go.Scatter(
            x=np.asarray(ranks, dtype=np.int32),
            y=as_float32(predicted),
            mode="lines",
            name="Eckart–Young: √(Σ_{i>k} σᵢ² / Σ σᵢ²)",
            line={"color": COLORS["reference"], "dash": "dot"},
        )
    )
    styled(
        figure,
        "The truncation error is exactly the energy of the dropped singular values",
        "rank k of fc1",
        "relative Frobenius error",
    )
    return figure.update_layout(legend={"x": 0.99, "xanchor": "right", "y": 0.98, "yanchor": "top"})


def storage_figure(
    ranks: Sequence[int], series: dict[str, Sequence[int]], dense: int, break_even: int
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
        f"The factors only save storage below rank {break_even + 1}",
        "rank k",
        "numbers stored",
    )


def fine_tune_figure(
    series: dict[str, tuple[Sequence[int], Sequence[float]]],
    base_accuracy: float,
    title: str,
) -> go.Figure:
    """Test accuracy against fine-tuning samples; ``series``: name → (samples, accuracies)."""
    figure = go.Figure()
    palette = [COLORS["compressed"], COLORS["random"], COLORS["trained"]]
    for (name, (samples, accuracies)), color in zip(series.items(), palette, strict=False):
        figure.add_trace(
            go.Scatter(
                x=np.asarray([max(s, 1) for s in samples], dtype=np.int64),  # log axis: 0 at 1
                y=as_float32(accuracies) * 100,
                mode="lines+markers",
                name=name,
                line={"color": color},
            )
        )
    figure.add_hline(
        y=base_accuracy * 100,
        line={"color": COLORS["reference"], "dash": "dash"},
        annotation_text=f"uncompressed: {base_accuracy * 100:.1f}%",
        annotation_position="bottom right",
    )
    figure.update_xaxes(type="log")
    styled(figure, title, "fine-tuning samples (log scale; 0 shown at 1)", "test accuracy (%)")
    return figure.update_layout(
        legend={"x": 0.99, "xanchor": "right", "y": 0.3, "yanchor": "bottom"}
    )


# --- 07_is_it_worth_it ---

from course_utils.seeds import Spread  # noqa: E402  (kept inside this block of a shared file)


def accuracy_budget_figure(
    curves: dict[str, tuple[Sequence[float], Sequence[Spread]]],
    reference: Spread,
    title: str,
    dashed: Sequence[str] = (),
) -> go.Figure:
    """Test error (100% − accuracy; mean ± standard deviation over seeds) against the parameters
    a model keeps, one line per method, both axes logarithmic so that 50% and 3% error both stay
    readable; ``reference`` (the uncompressed model) is drawn as a dotted line and a band."""
    figure = go.Figure()
    palette = [
        COLORS["compressed"],
        COLORS["trained"],
        COLORS["random"],
        COLORS["warning"],
        "#9467bd",
        "#8c564b",
    ]
    error = (1 - reference.mean) * 100
    figure.add_hrect(
        y0=error - reference.std * 100,
        y1=error + reference.std * 100,
        fillcolor=COLORS["reference"],
        opacity=0.2,
        line_width=0,
    )
    every_count = [count for parameters, _ in curves.values() for count in parameters]
    figure.add_trace(
        go.Scatter(  # a trace, not add_hline: its label stays right on a log axis
            x=np.asarray([min(every_count), max(every_count)], dtype=np.int64),
            y=as_float32([error, error]),
            mode="lines",
            name=f"uncompressed: {error:.1f}% ± {reference.std * 100:.1f}% error",
            line={"color": COLORS["reference"], "dash": "dot"},
        )
    )
    for (name, (parameters, spreads)), color in zip(curves.items(), palette, strict=False):
        figure.add_trace(
            go.Scatter(
                x=np.asarray(parameters, dtype=np.int64),
                y=as_float32([(1 - s.mean) * 100 for s in spreads]),
                error_y={"type": "data", "array": as_float32([s.std * 100 for s in spreads])},
                customdata=as_float32([[s.min * 100, s.max * 100] for s in spreads]),
                hovertemplate="%{x:,} parameters: %{y:.2f}% error (accuracy from "
                "%{customdata[0]:.2f}% to %{customdata[1]:.2f}%)",
                mode="lines+markers",
                name=name,
                line={"color": color, "dash": "dash" if name in dashed else "solid"},
            )
        )
    figure.update_xaxes(type="log")
    figure.update_yaxes(type="log")
    styled(
        figure,
        title,
        "parameters in the whole model, non-zero (log scale)",
        "test error (%), mean ± std over seeds (log scale)",
        height=520,
    )
    # the error falls from left to right: the top right corner is free for the legend
    return figure.update_layout(legend={"x": 0.99, "xanchor": "right", "y": 0.99, "yanchor": "top"})


# --- 08_transformer ---


def normalized_spectra_figure(spectra: dict[str, torch.Tensor], title: str) -> go.Figure:
    """Singular values divided by the largest, against rank as a share of the full rank, so
    matrices of different sizes share one picture (log y)."""
    figure = go.Figure()
    for name, values in spectra.items():
        values = as_float32(values)
        figure.add_trace(
            go.Scatter(
                x=np.arange(1, len(values) + 1, dtype=np.float32) / len(values) * 100,
                y=values / values[0],
                mode="lines",
                name=name,
            )
        )
    figure.update_yaxes(type="log")
    return styled(
        figure, title, "rank k, % of the full rank min(m, n)", "σ_k / σ_1 (log scale)", height=440
    )


def variance_vs_parameters_figure(
    curves: dict[str, tuple[Sequence[float], Sequence[float]]],
    title: str,
    dashed: Sequence[str] = (),
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
                line={"dash": "dash" if name in dashed else "solid"},
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
