"""The rank explorer: one slider over the rank k of fc1, and panels that follow it together:
what a few test digits look like through rank k, which classes fail first, where k sits on the
spectrum and on the accuracy curve, and what rank k stores (introduced in 04_truncate; ``make
explorer`` serves it as a page without code for a classroom projector).

Every number comes from :class:`~course_utils.rank_sweep.RankSweep` and
:mod:`course_utils.accounting`; a move computes the rank-k predictions of the test set once
(cached per rank) and redraws every panel in one plotly batch update."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import torch
from plotly.subplots import make_subplots

from course_utils.accounting import dense_weight_count, svd_break_even_rank, svd_storage
from course_utils.checks import check_rank
from course_utils.data import MnistTensors
from course_utils.models import CLASS_COUNT, SimpleNN
from course_utils.plots.style import COLORS, as_float32, log_ticks
from course_utils.rank_sweep import RankSweep
from course_utils.svd import explained_variance
from course_utils.threads import one_cpu_thread

PRESET_RANKS = (1, 2, 5, 10, 20, 50, 100, 200, 500)


def slider_stops(max_rank: int) -> list[int]:
    """The ranks the slider stops at: every rank up to 50, where accuracy changes fastest, then
    every 5th to 100, every 10th to 200, every 25th beyond, and ``max_rank`` itself. Half the
    track is ranks 1-50, so small ranks get room and an arrow key moves one stop."""
    stops = [*range(1, 51), *range(55, 101, 5), *range(110, 201, 10), *range(225, max_rank, 25)]
    return sorted({stop for stop in stops if stop < max_rank} | {max_rank})


SIDE = 28  # pixels per side of an MNIST digit
GAP = 4  # pixels between two digits in the "what rank k sees" panel
RIGHT, WRONG = "✓", "✗"


def default_curve_ranks(max_rank: int) -> list[int]:
    """Ranks for the accuracy curve, about evenly spaced on its log axis: every rank up to 30,
    then steps of 5, 10 and 20, and ``max_rank`` itself."""
    steps = [*range(1, 31), *range(35, 101, 5), *range(110, 201, 10), *range(220, max_rank, 20)]
    return sorted({rank for rank in steps if rank < max_rank} | {max_rank})


@dataclass(frozen=True)
class RankView:
    """Everything the explorer shows at one rank (the browser tests check these values)."""

    rank: int
    energy: float  # share of Σσ² kept by the top ``rank`` directions (03_explained_variance)
    accuracy: float
    class_accuracies: tuple[float, ...]  # share right per class 0..9 at this rank
    digit_labels: tuple[int, ...]
    digit_predictions: tuple[int, ...]
    stored: int  # numbers in U_k, diag(S_k), Vh_k
    dense: int  # numbers in the dense weight
    break_even: int

    @property
    def error_rate(self) -> float:
        return 1 - self.accuracy

    @property
    def digits_right(self) -> tuple[bool, ...]:
        return tuple(p == y for p, y in zip(self.digit_predictions, self.digit_labels, strict=True))

    @property
    def weakest_class(self) -> int:
        return int(np.argmin(self.class_accuracies))

    def digit_marks(self) -> list[str]:
        """The caption under each digit: the rank-k model's prediction, right or wrong."""
        return [
            f"{prediction} {RIGHT if right else WRONG}"
            for prediction, right in zip(self.digit_predictions, self.digits_right, strict=True)
        ]

    def cost_line(self) -> str:
        """Numbers stored at this rank against dense, and the break-even rank, in one line."""
        return (
            f"Rank {self.rank}: U, diag(S), Vᵀ store {self.stored:,} numbers, "
            f"{self.stored / self.dense:.2%} of the dense {self.dense:,}; "
            f"they stay smaller than W up to rank {self.break_even}"
        )

    def accuracy_title(self) -> str:
        return f"Rank {self.rank}: {self.accuracy:.1%} right, error rate {self.error_rate:.1%}"

    def spectrum_title(self) -> str:
        return f"Rank {self.rank} keeps {self.energy:.1%} of the energy"

    def classes_title(self) -> str:
        weakest = self.weakest_class
        return (
            f"Rank {self.rank}: digit {weakest} fails most "
            f"({self.class_accuracies[weakest]:.0%} right)"
        )


def _per_class(predictions: torch.Tensor, labels: torch.Tensor, counts: torch.Tensor) -> np.ndarray:
    right = (predictions == labels).to(torch.float64)
    per_class = torch.bincount(labels, weights=right, minlength=CLASS_COUNT) / counts
    return per_class.numpy()


def _first(right: torch.Tensor, labels: torch.Tensor, digit: int) -> int:
    """Index of the first test image of ``digit`` the base model gets right (else the first)."""
    of_digit = labels == digit
    if not bool(of_digit.any()):
        raise ValueError(f"the test data hold no image of the digit {digit}")
    candidates = (of_digit & right).nonzero()
    return int(candidates[0] if len(candidates) else of_digit.nonzero()[0])


def _line(x, y, name: str, color: str, dash: str = "solid", **style) -> go.Scatter:
    """One unlabelled line of the explorer, in a colour of the course's palette."""
    line = {"color": COLORS[color], "dash": dash}
    return go.Scatter(x=x, y=y, mode="lines", line=line, name=name, showlegend=False, **style)


class RankExplorer:
    """A rank slider (with preset ranks) driving one plotly ``FigureWidget`` of four panels.

    ``view(k)`` computes what any rank ``k`` shows without drawing; ``update(k)`` (what a slider
    move runs) computes it and redraws every panel in one batch update.
    """

    def __init__(
        self,
        model: SimpleNN,
        test_data: MnistTensors,
        rank: int = 10,
        sweep: RankSweep | None = None,
        curve_ranks: Sequence[int] | None = None,
        curve_accuracies: Sequence[float] | None = None,
    ) -> None:
        self.sweep = sweep or RankSweep(model, test_data)
        self.sweep.keep_checkpoints()  # a move then costs at most 25 directions, not 250
        svd = self.sweep.decomposition
        self.max_rank = self.sweep.max_rank
        check_rank(rank, svd.shape)
        self.rows, self.columns = svd.shape
        self.dense = dense_weight_count(self.rows, self.columns)
        self.break_even = svd_break_even_rank(self.rows, self.columns)
        self.singular_values = svd.singular_values.detach().cpu().to(torch.float64).numpy()
        self.cumulative = explained_variance(svd.singular_values).cpu().numpy()
        self.labels = test_data.labels.cpu()
        self.class_counts = torch.bincount(self.labels, minlength=CLASS_COUNT).to(torch.float64)
        with torch.no_grad():
            device = model.fc1.weight.device
            base_predictions = model(test_data.images.to(device)).argmax(1).cpu()
        self.base_accuracy = float((base_predictions == self.labels).float().mean())
        self.base_class_accuracies = _per_class(base_predictions, self.labels, self.class_counts)
        # one digit of each class: the first of it in the test set that the base model gets right
        right = base_predictions == self.labels
        self.digit_indices = [_first(right, self.labels, digit) for digit in range(CLASS_COUNT)]
        self.digit_labels = tuple(int(self.labels[i]) for i in self.digit_indices)
        digits = test_data.images[self.digit_indices].flatten(1).cpu().to(torch.float32)
        self.digit_pixels = digits.numpy()
        self.right_vectors = svd.Vh.detach().cpu().to(torch.float32).numpy()
        self.digit_coordinates = self.digit_pixels @ self.right_vectors.T  # (digits, max_rank)
        if curve_ranks is None:
            curve_ranks = default_curve_ranks(self.max_rank)
        if curve_accuracies is None:
            curve_accuracies = self.sweep.accuracies(list(curve_ranks))
        self.curve_ranks, self.curve_accuracies = list(curve_ranks), list(curve_accuracies)
        self._predictions: dict[int, torch.Tensor] = {}
        self.current = self.view(rank)
        self.figure = go.FigureWidget(self._draw(self._build_figure(), self.current))
        presets = [k for k in PRESET_RANKS if k <= self.max_rank]
        self.stops = slider_stops(self.max_rank)
        # the slider moves over stop positions; the label beside it shows the rank
        self.slider = widgets.IntSlider(
            value=bisect.bisect_right(self.stops, rank) - 1,  # the last stop at or below rank
            min=0,
            max=len(self.stops) - 1,
            step=1,
            readout=False,
            continuous_update=True,
            layout=widgets.Layout(width="520px"),
        )
        self.rank_label = widgets.Label(f"rank k of fc1 = {rank}")
        self.presets = [self._preset_button(k) for k in presets]
        self.slider.observe(lambda change: self._moved(change["new"]), names="value")

    # --- what a rank shows -------------------------------------------------------------------

    def predictions(self, rank: int) -> torch.Tensor:
        """The rank-``rank`` model's prediction for every test image (cached per rank)."""
        if rank not in self._predictions:
            self._predictions[rank] = self.sweep.predictions(rank).to("cpu", torch.uint8)
        return self._predictions[rank]

    def projected_digits(self, rank: int) -> np.ndarray:
        """What reaches the network of each shown digit through rank ``rank``: its projection
        onto the top-``rank`` right singular vectors, ``x V_k V_kᵀ``, as (digits, 784) pixels."""
        check_rank(rank, (self.rows, self.columns))
        return self.digit_coordinates[:, :rank] @ self.right_vectors[:rank]

    def view(self, rank: int) -> RankView:
        """Everything the panels show at ``rank`` (1..min(fc1.shape)), computed, not drawn."""
        check_rank(rank, (self.rows, self.columns))
        predictions = self.predictions(rank).long()
        return RankView(
            rank=rank,
            energy=float(self.cumulative[rank - 1]),
            accuracy=float((predictions == self.labels).float().mean()),
            class_accuracies=tuple(
                float(a) for a in _per_class(predictions, self.labels, self.class_counts)
            ),
            digit_labels=self.digit_labels,
            digit_predictions=tuple(int(predictions[i]) for i in self.digit_indices),
            stored=svd_storage(self.rows, self.columns, rank),
            dense=self.dense,
            break_even=self.break_even,
        )

    # --- drawing -----------------------------------------------------------------------------

    def _tiles(self, pixels: np.ndarray) -> np.ndarray:
        """Digits side by side in one (28, n·28 + gaps) image; the gaps are 0, drawn white (NaN
        would be lighter still, but JSON, and so the widget's messages, cannot carry it)."""
        count = len(pixels)
        row = np.zeros((SIDE, count * SIDE + (count - 1) * GAP), dtype=np.float32)
        for index, image in enumerate(pixels):
            start = index * (SIDE + GAP)
            row[:, start : start + SIDE] = image.reshape(SIDE, SIDE)
        return row.round(3)

    def _build_figure(self) -> go.Figure:
        figure = make_subplots(
            rows=2,
            cols=3,
            specs=[[{"colspan": 3}, None, None], [{}, {}, {}]],
            row_heights=[0.36, 0.64],
            vertical_spacing=0.17,
            horizontal_spacing=0.08,
            subplot_titles=["·"] * 4,
        )
        centres = [i * (SIDE + GAP) + SIDE / 2 - 0.5 for i in range(CLASS_COUNT)]
        heatmap = {"colorscale": "gray_r", "zmin": 0, "zmax": 1, "showscale": False}
        heatmap |= {"hoverinfo": "skip", "x0": 0, "dx": 1, "dy": 1}
        figure.add_trace(go.Heatmap(z=self._tiles(self.digit_pixels), y0=0, **heatmap), 1, 1)
        # the projection gets its own contrast (it is much fainter than the digit); its negative
        # values, like the gaps, are drawn white
        figure.add_trace(
            go.Heatmap(z=self._tiles(self.digit_pixels), y0=SIDE + GAP, **heatmap), 1, 1
        )
        figure.add_trace(
            go.Scatter(
                x=centres,
                y=[2 * SIDE + GAP + 5] * CLASS_COUNT,
                mode="text",
                text=[""] * CLASS_COUNT,
                textfont={"size": 15},
                hoverinfo="skip",
                showlegend=False,
            ),
            1,
            1,
        )
        figure.update_xaxes(visible=False, range=[-1, centres[-1] + SIDE / 2 + 1], row=1, col=1)
        figure.update_yaxes(
            autorange=False,
            range=[2 * SIDE + GAP + 10, -1],
            scaleanchor="x",
            tickvals=[SIDE / 2, SIDE + GAP + SIDE / 2, 2 * SIDE + GAP + 5],
            ticktext=["test digit", "through rank k", "predicted"],
            showgrid=False,
            zeroline=False,
            row=1,
            col=1,
        )
        digits_axis = list(range(CLASS_COUNT))
        figure.add_trace(
            go.Bar(
                x=digits_axis,
                y=as_float32(self.base_class_accuracies) * 100,
                name="base model",
                marker_color=COLORS["reference"],
                showlegend=False,
            ),
            2,
            1,
        )
        figure.add_trace(
            go.Bar(
                x=digits_axis,
                y=[0.0] * CLASS_COUNT,
                name="rank k",
                marker_color=COLORS["compressed"],
                showlegend=False,
            ),
            2,
            1,
        )
        figure.update_layout(barmode="group", bargap=0.25, bargroupgap=0.05)
        figure.update_xaxes(
            title_text="digit (grey: base model, green: rank k)", dtick=1, row=2, col=1
        )
        figure.update_yaxes(title_text="test accuracy (%)", range=[0, 100], row=2, col=1)

        ranks = np.arange(1, self.max_rank + 1, dtype=np.int32)
        spectrum = _line(ranks, as_float32(self.singular_values), "singular values", "reference")
        figure.add_trace(spectrum, 2, 2)
        figure.add_trace(_line([1], [0.0], "kept", "compressed", fill="tozeroy"), 2, 2)
        ticks = log_ticks(1, self.max_rank)
        log_x = {"type": "log", "tickvals": ticks, "ticktext": [f"{t:g}" for t in ticks]}
        figure.update_xaxes(title_text="rank k (log scale)", **log_x, row=2, col=2)
        figure.update_yaxes(title_text="singular value σₖ", row=2, col=2)

        curve_ranks = np.asarray(self.curve_ranks, dtype=np.int32)
        curve = as_float32(self.curve_accuracies) * 100
        base = [self.base_accuracy * 100] * 2
        figure.add_trace(_line(curve_ranks, curve, "rank-k accuracy", "compressed"), 2, 3)
        figure.add_trace(_line([1, self.max_rank], base, "base model", "reference", "dash"), 2, 3)
        marker = {"size": 12, "color": COLORS["warning"]}
        figure.add_trace(
            go.Scatter(x=[1], y=[0.0], mode="markers", marker=marker, name="selected rank"), 2, 3
        )
        figure.update_traces(showlegend=False)
        figure.update_xaxes(title_text="rank k (log scale)", **log_x, row=2, col=3)
        figure.update_yaxes(title_text="test accuracy (%)", range=[0, 100], row=2, col=3)
        figure.update_annotations(font_size=12, yshift=6)
        figure.update_layout(
            title={"text": "", "x": 0.01, "xanchor": "left", "font": {"size": 15}},
            width=1000,
            height=620,
            margin={"l": 110, "r": 20, "t": 70, "b": 60},
            template="plotly_white",
        )
        return figure

    def update(self, rank: int) -> RankView:
        """Compute rank ``rank``'s view and redraw every panel in one batch update (on one CPU
        thread: a move's few small products and its Python work are faster without waiting
        threads beside them)."""
        with one_cpu_thread(self.sweep.labels.device):
            view = self.view(rank)
            with self.figure.batch_update():
                self._draw(self.figure, view)
        self.current = view
        self.rank_label.value = f"rank k of fc1 = {rank}"
        return view

    def _draw(self, figure: go.Figure, view: RankView) -> go.Figure:
        """Put ``view`` into every panel of ``figure`` (the widget, or the figure it starts from:
        a FigureWidget shown later starts from its first state, not from later updates)."""
        rank = view.rank
        _, digits, marks, _, bars, _, kept, _, _, marker = figure.data
        projected = self._tiles(self.projected_digits(rank))
        digits.z, digits.zmax = projected, max(float(projected.max()), 1e-6)
        marks.text = view.digit_marks()
        marks.textfont.color = [
            COLORS["compressed"] if right else COLORS["warning"] for right in view.digits_right
        ]
        bars.y = np.asarray(view.class_accuracies, dtype=np.float32) * 100
        kept.x = np.arange(1, rank + 1, dtype=np.int32)
        kept.y = as_float32(self.singular_values[:rank])
        marker.x, marker.y = [rank], [view.accuracy * 100]
        titles = figure.layout.annotations
        titles[0].text = f"What reaches the network through rank {rank}, one digit per class"
        titles[1].text = view.classes_title()
        titles[2].text = view.spectrum_title()
        titles[3].text = view.accuracy_title()
        figure.layout.title.text = view.cost_line()
        return figure

    @property
    def rank(self) -> int:
        """The rank the panels show."""
        return self.current.rank

    @rank.setter
    def rank(self, rank: int) -> None:
        """Move the slider to ``rank`` (one of ``self.stops``), which redraws every panel."""
        position = self._stop_index(rank)
        if self.slider.value == position:  # no move, no callback: draw it here
            self.update(rank)
        self.slider.value = position

    def _stop_index(self, rank: int) -> int:
        if rank not in self.stops:
            raise ValueError(
                f"rank {rank} is not a stop of the slider (every rank up to 50, then "
                f"{', '.join(map(str, self.stops[50:53]))}, ...); show it with update({rank})"
            )
        return self.stops.index(rank)

    def _moved(self, position: int) -> None:
        self.update(self.stops[position])

    def _preset_button(self, rank: int) -> widgets.Button:
        button = widgets.Button(description=str(rank), layout=widgets.Layout(width="auto"))
        button.on_click(lambda _: setattr(self, "rank", rank))
        return button

    @property
    def widget(self) -> widgets.VBox:
        controls = widgets.HBox(
            [self.slider, self.rank_label, widgets.Label("jump to:"), *self.presets]
        )
        return widgets.VBox([controls, self.figure])

    def _repr_mimebundle_(self, **kwargs: object) -> dict:
        """The widget for a live front-end, plus the figure at the current rank as plotly's
        renderer would emit it: a stored notebook keeps no widget state, so that figure (and
        the PNG ``tools.run_course --in-place`` adds) stands in for the explorer on GitHub and
        in the HTML pages; JupyterLab prefers the widget."""
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle.update(pio.renderers["plotly_mimetype"].to_mimebundle(self.figure.to_dict()))
        return bundle
