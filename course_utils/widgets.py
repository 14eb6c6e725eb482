"""Rank sliders: an ipywidgets ``IntSlider`` driving readouts and a plotly ``FigureWidget``
(introduced in 03_explained_variance and 04_truncate). Every number they show comes from the
same functions the static cells call; a slider only adds interaction."""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as widgets
import plotly.graph_objects as go
import plotly.io as pio
import torch

from course_utils.accounting import dense_weight_count, factorized_layer_parameters, svd_storage
from course_utils.checks import check_rank
from course_utils.plots import accuracy_vs_rank, explained_variance_figure
from course_utils.rank_sweep import RankSweep
from course_utils.svd import explained_variance


@dataclass(frozen=True)
class RankReport:
    """What the rank-k model keeps: variance, accuracy, share of fc1's numbers."""

    rank: int
    explained_variance: float
    accuracy: float | None = None
    stored_share: float | None = None
    factorized_share: float | None = None


class RankSlider:
    """A slider, an HTML readout and a figure whose marker and title follow the slider."""

    def __init__(self, figure: go.Figure, max_rank: int, rank: int, description: str) -> None:
        check_rank(rank, (max_rank, max_rank))
        self.slider = widgets.IntSlider(
            value=rank,
            min=1,
            max=max_rank,
            step=1,
            description=description,
            continuous_update=True,
            layout=widgets.Layout(width="600px"),
            style={"description_width": "initial"},
        )
        self.readout = widgets.HTML()
        self.figure = go.FigureWidget(figure)
        self.figure.add_scatter(
            x=[rank],
            y=[0.0],
            mode="markers",
            marker={"size": 13, "color": "#d62728"},
            name="selected rank",
            showlegend=False,
        )
        self.marker = self.figure.data[-1]
        self.report = self.measure(rank)
        self.slider.observe(lambda change: self.update(change["new"]), names="value")
        self.update(rank)

    def measure(self, rank: int) -> RankReport:  # pragma: no cover - defined by subclasses
        raise NotImplementedError

    def describe(self, report: RankReport) -> tuple[str, str, float]:  # pragma: no cover
        """Readout HTML, figure title and the marker's y value for ``report``."""
        raise NotImplementedError

    def update(self, rank: int) -> RankReport:
        """Recompute everything for ``rank`` and redraw the readout, marker and title."""
        self.report = self.measure(rank)
        html, title, y = self.describe(self.report)
        self.readout.value = html
        with self.figure.batch_update():
            self.marker.x, self.marker.y = [rank], [y]
            self.figure.layout.title.text = title
        return self.report

    @property
    def widget(self) -> widgets.VBox:
        return widgets.VBox([self.slider, self.readout, self.figure])

    def _repr_mimebundle_(self, **kwargs: object) -> dict:
        """The widget for a live front-end, with the figure at the current rank as plotly's
        interactive renderer would emit it. A stored notebook keeps no widget state, so that
        figure (and the PNG ``tools.run_course --in-place`` adds to it) is what GitHub and the
        HTML pages show in the slider's place; JupyterLab prefers the widget."""
        bundle = self.widget._repr_mimebundle_(**kwargs)
        figure = go.Figure(self.figure).to_dict()
        bundle.update(pio.renderers["plotly_mimetype"].to_mimebundle(figure))
        return bundle


class VarianceSlider(RankSlider):
    """Explained variance of fc1 at the rank chosen on the slider (03_explained_variance)."""

    def __init__(self, singular_values: torch.Tensor, rank: int = 10) -> None:
        self.cumulative = explained_variance(singular_values)
        super().__init__(
            explained_variance_figure(self.cumulative, "Explained variance of fc1 against rank"),
            len(singular_values),
            rank,
            "rank k",
        )

    def measure(self, rank: int) -> RankReport:
        check_rank(rank, (len(self.cumulative), len(self.cumulative)))
        return RankReport(rank, float(self.cumulative[rank - 1]))

    def describe(self, report: RankReport) -> tuple[str, str, float]:
        share = report.explained_variance * 100
        html = f"<b>rank {report.rank}</b> keeps <b>{share:.1f}%</b> of fc1's variance"
        return html, f"Rank {report.rank} keeps {share:.1f}% of the variance", share


class TruncationSlider(RankSlider):
    """Test accuracy, storage share and explained variance of the rank-k model (04_truncate)."""

    def __init__(
        self,
        sweep: RankSweep,
        base_accuracy: float,
        curve_ranks: list[int],
        curve_accuracies: list[float],
        rank: int = 10,
    ) -> None:
        self.sweep = sweep
        self.cumulative = explained_variance(sweep.decomposition.singular_values)
        self.rows, self.columns = sweep.decomposition.shape
        super().__init__(
            accuracy_vs_rank(
                curve_ranks, curve_accuracies, base_accuracy, "Test accuracy against rank"
            ),
            sweep.max_rank,
            rank,
            "rank k of fc1",
        )

    def measure(self, rank: int) -> RankReport:
        dense = dense_weight_count(self.rows, self.columns)
        return RankReport(
            rank=rank,
            explained_variance=float(self.cumulative[rank - 1]),
            accuracy=self.sweep.accuracy(rank),
            stored_share=svd_storage(self.rows, self.columns, rank) / dense,
            factorized_share=factorized_layer_parameters(self.rows, self.columns, rank)
            / (dense + self.rows),
        )

    def describe(self, report: RankReport) -> tuple[str, str, float]:
        accuracy = report.accuracy * 100
        html = (
            f"<b>rank {report.rank}</b>: test accuracy <b>{accuracy:.2f}%</b> · "
            f"U, diag(S), Vᵀ hold <b>{report.stored_share * 100:.2f}%</b> of fc1's weights · "
            f"factorized fc1 (with bias) <b>{report.factorized_share * 100:.2f}%</b> of its "
            f"parameters · explained variance <b>{report.explained_variance * 100:.1f}%</b>"
        )
        return html, f"Rank {report.rank}: test accuracy {accuracy:.2f}%", accuracy
