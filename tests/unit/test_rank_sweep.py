"""RankSweep gives exactly the accuracy of the truncated model, at any rank, fast or slow path."""

import pytest
import torch

from course_utils.compress import truncate_layer
from course_utils.data import load_mnist
from course_utils.rank_sweep import RankSweep
from course_utils.training import accuracy


@pytest.fixture
def trained(small_trained_model):
    return small_trained_model


def test_sweep_matches_the_rebuilt_model(trained):
    test = load_mnist(False).subset(2_000)
    sweep = RankSweep(trained, test)
    ranks = [64, 1, 7, 30, 7]
    expected = [accuracy(truncate_layer(trained, "fc1", r), test) for r in ranks]
    assert sweep.accuracies(ranks) == pytest.approx(expected, abs=1e-3)
    assert sweep.accuracy(7) == pytest.approx(expected[2], abs=1e-3)


def test_single_ranks_below_and_above_half_agree_with_the_sweep(trained):
    sweep = RankSweep(trained, load_mnist(False).subset(2_000))
    ranks = [1, 31, 32, 33, 50, 63, 64]  # 32 is half of 64: above it, full minus dropped
    one_by_one = [sweep.accuracy(rank) for rank in [*ranks, 5, 60]]  # the buffer is reused
    assert one_by_one[:-2] == pytest.approx(sweep.accuracies(ranks), abs=1e-3)
    assert one_by_one[-2:] == [sweep.accuracy(5), sweep.accuracy(60)]
    rebuilt = accuracy(truncate_layer(trained, "fc1", 50), load_mnist(False).subset(2_000))
    assert sweep.accuracy(50) == pytest.approx(rebuilt, abs=1e-3)


def test_predictions_are_the_truncated_models_digits(trained):
    test = load_mnist(False).subset(500)
    sweep = RankSweep(trained, test)
    for rank in (3, 50):  # below and above half the full rank
        with torch.no_grad():
            expected = truncate_layer(trained, "fc1", rank)(test.images).argmax(1)
        agree = (sweep.predictions(rank) == expected).float().mean().item()
        assert agree >= 0.998  # a tie between two logits may fall either way
        assert sweep.accuracy(rank) == (sweep.predictions(rank) == test.labels).float().mean()


def test_sweep_rejects_ranks_outside_the_layer(trained):
    sweep = RankSweep(trained, load_mnist(False).subset(100))
    with pytest.raises(ValueError, match="from 1 to 64"):
        sweep.accuracy(65)
    with pytest.raises(ValueError, match="from 1 to 64"):
        sweep.predictions(0)
    with pytest.raises(ValueError, match="from 1 to 64"):
        sweep.accuracies([3, 0])


def test_checkpoints_give_the_same_predictions_from_the_nearest_rank(trained):
    test = load_mnist(False).subset(500)
    sweep, plain = RankSweep(trained, test), RankSweep(trained, test)
    sweep.keep_checkpoints(every=16)
    assert sorted(sweep._checkpoints) == [0, 16, 32, 48, 64]
    for rank in (1, 8, 9, 16, 23, 40, 57, 64):  # at, below and above a checkpoint
        agree = (sweep.predictions(rank) == plain.predictions(rank)).float().mean().item()
        assert agree >= 0.998, rank
    with pytest.raises(ValueError, match="at least 1"):
        sweep.keep_checkpoints(every=0)
