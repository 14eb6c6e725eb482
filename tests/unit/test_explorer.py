"""The rank explorer: each panel shows what course_utils computes for the slider's rank."""

import numpy as np
import pytest
import torch

from course_utils.compress import truncate_layer
from course_utils.data import load_mnist
from course_utils.explorer import PRESET_RANKS, RankExplorer, default_curve_ranks, slider_stops
from course_utils.svd import decompose, explained_variance


@pytest.fixture(scope="module")
def explorer(trained_run):
    model = trained_run(hidden_dim=500, samples=3_200).model.eval()
    test = load_mnist(False).subset(600)
    return model, test, RankExplorer(model, test, rank=10, curve_ranks=[1, 10, 100, 500])


def test_a_view_holds_the_truncated_models_numbers(explorer):
    model, test, explorer = explorer
    view = explorer.view(42)
    with torch.no_grad():
        predictions = truncate_layer(model, "fc1", 42)(test.images).argmax(1)
    right = predictions == test.labels
    assert view.accuracy == pytest.approx(right.float().mean().item(), abs=2 / len(test))
    for digit in range(10):
        of_class = test.labels == digit
        expected = right[of_class].float().mean().item()
        assert view.class_accuracies[digit] == pytest.approx(expected, abs=0.02)
    assert view.digit_predictions == tuple(int(predictions[i]) for i in explorer.digit_indices)
    assert view.digit_labels == tuple(range(10))
    assert view.stored == 500 * 42 + 42 * 42 + 42 * 784 and view.dense == 500 * 784
    cumulative = explained_variance(decompose(model.fc1.weight.detach()).singular_values)
    assert view.energy == pytest.approx(cumulative[41].item(), abs=1e-9)


def test_slider_stops_give_the_small_ranks_room():
    stops = slider_stops(500)
    assert stops[:50] == list(range(1, 51)) and stops[-1] == 500
    assert all(rank in stops for rank in PRESET_RANKS)
    assert stops.index(18) / (len(stops) - 1) > 0.15, "rank 18 must not sit at the left edge"
    assert stops.index(50) / (len(stops) - 1) >= 0.5, "ranks 1-50 take half of the track"
    assert slider_stops(64)[-1] == 64 and slider_stops(30) == list(range(1, 31))


def test_one_slider_step_moves_one_stop_and_a_rank_between_stops_is_refused(explorer):
    _, _, explorer = explorer
    explorer.rank = 10
    explorer.slider.value += 1
    assert explorer.rank == 11 and explorer.rank_label.value.endswith("= 11")
    with pytest.raises(ValueError, match="not a stop of the slider"):
        explorer.rank = 497 if explorer.max_rank == 500 else explorer.max_rank + 1


def test_a_slider_move_redraws_every_panel(explorer):
    model, test, explorer = explorer
    explorer.rank = 7
    view, figure = explorer.current, explorer.figure
    assert view.rank == 7
    with torch.no_grad():
        predictions = truncate_layer(model, "fc1", 7)(test.images).argmax(1)
    right = (predictions == test.labels).float()
    marks, bars, kept, marker = (figure.data[i] for i in (2, 4, 6, 9))
    shown = [int(predictions[i]) for i in explorer.digit_indices]
    assert [mark.split()[0] for mark in marks.text] == [str(p) for p in shown], "digit captions"
    per_class = [100 * right[test.labels == digit].mean().item() for digit in range(10)]
    assert np.allclose(bars.y, per_class, atol=2 / 0.6), "per-class bars"  # ≤ 2 of ~60 images
    assert list(kept.x) == list(range(1, 8)), "the shaded part of the spectrum"
    accuracy = 100 * right.mean().item()
    assert marker.x == (7,) and marker.y[0] == pytest.approx(accuracy, abs=0.4), "marker"
    title = figure.layout.title.text
    assert title.startswith("Rank 7:") and f"{7 * (500 + 784 + 7):,} numbers" in title, title
    texts = [annotation.text for annotation in figure.layout.annotations]
    energy = explained_variance(decompose(model.fc1.weight.detach()).singular_values)[6]
    assert f"keeps {energy:.1%} of the energy" in texts[2], texts[2]
    assert texts[3].startswith("Rank 7: ") and "right" in texts[3], texts[3]
    projected = explorer.projected_digits(7)
    rows = figure.data[1].z
    assert np.allclose(np.asarray(rows)[:, :28], projected[0].reshape(28, 28), atol=1e-3), (
        "the first shown digit is not drawn through rank 7"
    )


def test_the_projection_is_onto_the_top_right_singular_vectors(explorer):
    model, _, explorer = explorer
    Vh = decompose(model.fc1.weight.detach()).Vh
    digit = torch.from_numpy(explorer.digit_pixels[3])
    expected = digit @ Vh[:5].T @ Vh[:5]
    assert np.allclose(explorer.projected_digits(5)[3], expected.numpy(), atol=1e-4)
    full = explorer.projected_digits(explorer.max_rank)[3]  # all 500 directions of 784
    assert np.linalg.norm(full) <= np.linalg.norm(explorer.digit_pixels[3]) + 1e-4


def test_the_storage_title_counts_the_three_matrices_and_the_break_even_rank(explorer):
    _, _, explorer = explorer
    # counted here from the shapes: U_k 500×k, diag(S_k) k×k, V_kᵀ k×784
    break_even = max(k for k in range(1, 501) if 500 * k + k * k + k * 784 < 500 * 784)
    for rank in (1, 10, 254, 255, 500):
        stored = 500 * rank + rank * rank + rank * 784
        title = explorer.view(rank).cost_line()
        assert f"store {stored:,} numbers" in title, title
        assert f"{100 * stored / 392_000:.2f}% of the dense 392,000" in title, title
        assert f"up to rank {break_even}" in title and break_even == 254, title


def test_the_curve_ranks_start_at_one_and_end_at_full_rank():
    ranks = default_curve_ranks(500)
    assert ranks[:3] == [1, 2, 3] and ranks[-1] == 500, ranks
    assert ranks == sorted(set(ranks)), "ranks must increase"


def test_a_bad_rank_is_refused_with_the_range(explorer):
    _, _, explorer = explorer
    for bad in (0, 501, 2.0, True):
        with pytest.raises(ValueError, match="from 1 to 500"):
            explorer.view(bad)
    with pytest.raises(ValueError, match="from 1 to 500"):
        explorer.update(0)


def test_a_bad_starting_rank_is_refused(explorer):
    model, test, _ = explorer
    with pytest.raises(ValueError, match="from 1 to 500"):
        RankExplorer(model, test, rank=0, curve_ranks=[1], curve_accuracies=[0.1])


def test_the_explorer_shows_as_a_widget_with_its_figure_beside_it(explorer):
    # JupyterLab shows the widget; a stored notebook (no widget state) shows the figure, whose
    # PNG `tools.run_course --in-place` adds.
    _, _, explorer = explorer
    explorer.update(10)
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    figure = bundle["application/vnd.plotly.v1+json"]
    assert figure["layout"]["title"]["text"].startswith("Rank 10: "), "the figure shows rank 10"
    assert figure["data"][-1]["x"] == [10], "the accuracy marker sits at rank 10"
