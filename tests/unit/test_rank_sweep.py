"""RankSweep gives exactly the accuracy of the truncated model, at any rank, fast or slow path,
for the plain SVD and for any ranked factors (whitened, centred)."""

import pytest
import torch

from course_utils.activation_aware import InputStatistics, factorize_ranked, ranked_factors
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
        assert agree >= 0.998, f"rank {rank}: only {agree:.1%} of the digits agree"
        truncated_accuracy = (expected == test.labels).float().mean().item()
        assert abs(sweep.accuracy(rank) - truncated_accuracy) <= 1 / 500, (  # a tie: one image
            f"rank {rank}: sweep {sweep.accuracy(rank):.3f}, truncated {truncated_accuracy:.3f}"
        )


def test_sweep_rejects_ranks_outside_the_layer(trained):
    sweep = RankSweep(trained, load_mnist(False).subset(100))
    with pytest.raises(ValueError, match="from 1 to 64"):
        sweep.accuracy(65)
    with pytest.raises(ValueError, match="from 1 to 64"):
        sweep.predictions(0)
    with pytest.raises(ValueError, match="from 1 to 64"):
        sweep.accuracies([3, 0])
    with pytest.raises(ValueError, match="chunk"):
        sweep.accuracies([3], chunk=0)


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


@pytest.mark.parametrize("method", ["plain", "whiten", "centred"])
def test_sweeping_ranked_factors_is_the_factorized_models_accuracy(trained, method):
    test = load_mnist(False).subset(500)
    statistics = InputStatistics(784)
    statistics.add(load_mnist(True).subset(2_000).images.flatten(1))
    factors = ranked_factors(trained.fc1.weight, method, statistics)
    sweep = RankSweep(trained, test, factors=factors)
    every_rank = sweep.accuracies(range(1, 65), chunk=128)
    for rank in (1, 5, 64):
        rebuilt = accuracy(factorize_ranked(trained, {"fc1": factors}, {"fc1": rank}), test)
        assert every_rank[rank - 1] == pytest.approx(rebuilt, abs=2e-3), f"rank {rank}"
        assert sweep.accuracy(rank) == pytest.approx(rebuilt, abs=2e-3), f"rank {rank}, alone"
    # the chunk size only changes the order of the work
    assert sweep.accuracies(range(1, 65), chunk=500) == pytest.approx(every_rank, abs=1e-12)


def test_sweeping_factors_refuses_bad_arguments_and_restores_threads(trained):
    test = load_mnist(False).subset(10)
    with pytest.raises(ValueError, match="do not fit fc1"):
        RankSweep(trained, test, factors=ranked_factors(torch.randn(32, 100), "plain"))
    plain = ranked_factors(trained.fc1.weight, "plain")
    with pytest.raises(ValueError, match="not both"):
        RankSweep(trained, test, RankSweep(trained, test).decomposition, factors=plain)
    threads = torch.get_num_threads()
    RankSweep(trained, test, factors=plain).accuracies([1, 64])
    assert torch.get_num_threads() == threads, "the single-thread sweep must restore the setting"
