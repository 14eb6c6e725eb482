"""Figures of the small causal language model: its training loss and its perplexity after
compression (14_causal_lm, 15_heal_with_lora)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from course_utils.plots.style import COLORS, as_float32, styled

METHOD_COLORS = {
    "plain": COLORS["warning"],
    "scale": COLORS["random"],
    "whiten": COLORS["compressed"],
}
METHOD_NAMES = {"plain": "plain SVD", "scale": "ASVD (α = 0.5)", "whiten": "SVD-LLM whitening"}
TOP_LEFT = {"x": 0.02, "xanchor": "left", "y": 0.98, "yanchor": "top"}
TOP_RIGHT = {"x": 0.99, "xanchor": "right", "y": 0.98, "yanchor": "top"}


def loss_curve(losses: Sequence[float], title: str, every: int = 25) -> go.Figure:
    """Training loss per step (light) and its mean over each ``every`` steps (dark)."""
    values = as_float32(losses)
    steps = np.arange(1, len(values) + 1, dtype=np.int32)
    blocks = len(values) // every
    means = values[: blocks * every].reshape(blocks, every).mean(1)
    figure = go.Figure(
        [
            go.Scatter(
                x=steps,
                y=values,
                mode="lines",
                name="each step",
                opacity=0.3,
                line={"color": COLORS["reference"]},
            ),
            go.Scatter(
                x=steps[every - 1 :: every][:blocks],
                y=means,
                mode="lines",
                name=f"mean of {every} steps",
                line={"color": COLORS["trained"]},
            ),
        ]
    )
    styled(figure, title, "training step", "cross-entropy (nats per byte)")
    return figure.update_layout(legend=TOP_RIGHT)


def perplexity_by_removed(
    results: Mapping[str, Mapping[float, float]], original: float, title: str
) -> go.Figure:
    """Held-out perplexity against the share of block parameters removed, one line per
    method, the uncompressed model as a dotted line."""
    figure = go.Figure()
    for method, by_share in results.items():
        shares = sorted(by_share)
        figure.add_trace(
            go.Scatter(
                x=[100 * s for s in shares],
                y=[by_share[s] for s in shares],
                mode="lines+markers",
                name=METHOD_NAMES.get(method, method),
                line={"color": METHOD_COLORS.get(method, COLORS["trained"])},
            )
        )
    figure.add_hline(
        y=original, line={"color": COLORS["reference"], "dash": "dot"}, annotation_text="original"
    )
    styled(figure, title, "block-matrix parameters removed (%)", "held-out perplexity per byte")
    return figure.update_layout(legend=TOP_LEFT)
