"""activation_aware: input statistics, whitened / scaled factors and their optimality, and
factorizing the linear layers of a small randomly initialised transformer (no download)."""

import pytest
import torch
from torch import nn

from course_utils.activation_aware import (
    InputStatistics,
    collect_input_statistics,
    factorize_ranked,
    ranked_factors,
)
from course_utils.compress import FactorizedLinear, factorize_layers
from course_utils.svd import low_rank_approximation


def statistics_of(inputs: torch.Tensor) -> InputStatistics:
    statistics = InputStatistics(inputs.shape[1])
    statistics.add(inputs)
    return statistics


def truncated_factors(weight, rank, method, statistics=None, **options):
    return ranked_factors(weight, method, statistics, **options).truncated(rank)


def output_error(weight, approximation, statistics) -> float:
    """Relative output error on the calibration inputs: √(E‖(W − W')x‖² / E‖W x‖²)."""
    moment = statistics.second_moment()
    difference = weight - approximation
    lost = torch.trace(difference @ moment @ difference.T)
    return float(torch.sqrt(lost / torch.trace(weight @ moment @ weight.T)))


@pytest.fixture
def problem() -> tuple[torch.Tensor, torch.Tensor]:
    """A 24×40 weight and 500 strongly anisotropic inputs (a few directions dominate)."""
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(24, 40, generator=generator, dtype=torch.float64)
    scales = torch.logspace(1, -2, 40, dtype=torch.float64)
    mixing = torch.linalg.qr(torch.randn(40, 40, generator=generator, dtype=torch.float64))[0]
    inputs = (torch.randn(500, 40, generator=generator, dtype=torch.float64) * scales) @ mixing
    return weight, inputs


def test_statistics_are_running_sums():
    generator = torch.Generator().manual_seed(1)
    first, second = torch.randn(7, 5, generator=generator), torch.randn(3, 5, generator=generator)
    statistics = InputStatistics(5)
    statistics.add(first)
    statistics.add(second)
    both = torch.cat([first, second]).double()
    assert statistics.count == 10
    assert torch.allclose(statistics.second_moment(), both.T @ both / 10, atol=1e-6)
    assert torch.allclose(statistics.mean_absolute(), both.abs().mean(0), atol=1e-6)
    assert torch.allclose(statistics.mean(), both.mean(0), atol=1e-6)
    centred = both - both.mean(0)
    assert torch.allclose(statistics.covariance(), centred.T @ centred / 10, atol=1e-6)


def test_statistics_refuse_wrong_shapes_and_emptiness():
    statistics = InputStatistics(5)
    with pytest.raises(ValueError, match="no inputs"):
        statistics.second_moment()
    with pytest.raises(ValueError, match="no inputs"):
        statistics.covariance()
    with pytest.raises(ValueError, match=r"\(n, 5\)"):
        statistics.add(torch.zeros(3, 4))


def test_plain_factors_are_the_truncated_svd(problem):
    weight, _ = problem
    left, right = truncated_factors(weight, 6, "plain")
    assert left.shape == (24, 6) and right.shape == (6, 40)
    assert torch.allclose(left @ right, low_rank_approximation(weight, 6), atol=1e-10)


@pytest.mark.parametrize("method", ["whiten", "centred", "scale"])
def test_full_rank_factors_reproduce_the_weight(problem, method):
    weight, inputs = problem
    factors = ranked_factors(weight, method, statistics_of(inputs))
    left, right = factors.truncated(24)
    assert torch.allclose(left @ right, weight, atol=1e-8)
    assert torch.allclose(factors.bias_shift(24), torch.zeros(24, dtype=weight.dtype), atol=1e-8)


def test_whitening_is_plain_svd_when_inputs_are_isotropic(problem):
    weight, _ = problem
    statistics = statistics_of(torch.eye(40, dtype=torch.float64) * 3.0)  # C = 9/40 · I
    left, right = truncated_factors(weight, 5, "whiten", statistics, damping=0.0)
    assert torch.allclose(left @ right, low_rank_approximation(weight, 5), atol=1e-9)


def test_scaling_is_plain_svd_when_every_feature_has_the_same_size(problem):
    weight, _ = problem
    statistics = statistics_of(torch.full((4, 40), -2.0, dtype=torch.float64))
    left, right = truncated_factors(weight, 5, "scale", statistics)
    assert torch.allclose(left @ right, low_rank_approximation(weight, 5), atol=1e-9)


@pytest.mark.parametrize("rank", [1, 4, 12])
def test_whitening_reaches_the_smallest_possible_output_error(problem, rank):
    weight, inputs = problem
    statistics = statistics_of(inputs)  # C is invertible here, so no damping is needed

    def factors(method):
        return truncated_factors(weight, rank, method, statistics, damping=0.0)

    errors = {
        method: output_error(weight, torch.matmul(*factors(method)), statistics)
        for method in ("plain", "scale", "whiten")
    }
    # the optimum: the energy of W·L beyond rank k (Eckart–Young applied to W·L)
    variance = ranked_factors(weight, "whiten", statistics, damping=0.0).explained_variance()
    best = (1 - variance[rank - 1]).sqrt().item()
    assert errors["whiten"] == pytest.approx(best, rel=1e-4, abs=1e-9)
    assert errors["whiten"] < errors["scale"] and errors["whiten"] < errors["plain"]
    if rank > 1:  # beyond the first direction the gap is large, not a rounding effect
        assert errors["whiten"] < 0.8 * errors["plain"]
    # no nearby rank-k matrix does better
    left, right = factors("whiten")
    generator = torch.Generator().manual_seed(rank)
    for _ in range(20):
        nudged = (left + 1e-3 * torch.randn(left.shape, generator=generator, dtype=left.dtype)) @ (
            right + 1e-3 * torch.randn(right.shape, generator=generator, dtype=right.dtype)
        )
        assert output_error(weight, nudged, statistics) >= errors["whiten"] - 1e-12


@pytest.mark.parametrize("rank", [1, 4, 12])
def test_centred_whitening_is_the_best_weight_and_bias_for_shifted_inputs(problem, rank):
    weight, inputs = problem
    shifted = inputs + 3.0 * torch.linspace(-1, 1, 40, dtype=torch.float64)  # a large mean
    statistics = statistics_of(shifted)
    mean, covariance = statistics.mean(), statistics.covariance()

    def error_with_bias(approximation, shift):
        """√ of the mean squared change of W x + b, per input, over the calibration inputs."""
        change = shifted @ (weight - approximation).T - shift
        return float(change.square().sum(1).mean().sqrt())

    centred = ranked_factors(weight, "centred", statistics, damping=0.0)
    left, right = centred.truncated(rank)
    shift = centred.bias_shift(rank)
    assert torch.allclose(shift, (weight - left @ right) @ mean, atol=1e-10)
    # the optimum: the covariance-whitened energy beyond rank k, with the best bias
    lost = (centred.singular_values[rank:].square().sum()).sqrt().item()
    assert error_with_bias(left @ right, shift) == pytest.approx(lost, rel=1e-6)
    assert torch.allclose(  # Eckart–Young on W·L with L Lᵀ = C − μμᵀ
        centred.singular_values, torch.linalg.svdvals(weight @ torch.linalg.cholesky(covariance))
    )
    uncentred = ranked_factors(weight, "whiten", statistics, damping=0.0)
    other_left, other_right = uncentred.truncated(rank)
    other = other_left @ other_right
    # even given the best bias for its weight, the uncentred choice loses more
    assert error_with_bias(left @ right, shift) < error_with_bias(other, (weight - other) @ mean)
    assert torch.equal(uncentred.bias_shift(rank), torch.zeros(24, dtype=torch.float64))


def test_factorize_ranked_folds_the_centred_shift_into_the_bias(problem):
    weight, inputs = problem
    layer = nn.Linear(40, 24).double()
    with torch.no_grad():
        layer.weight.copy_(weight)
    factors = ranked_factors(layer.weight, "centred", statistics_of(inputs + 1.0))
    compressed = factorize_ranked(nn.Sequential(layer), {"0": factors}, {"0": 5})[0]
    left, right = factors.truncated(5)
    expected = inputs @ (left @ right).T + layer.bias + factors.bias_shift(5)
    with torch.no_grad():
        assert torch.allclose(compressed(inputs), expected, atol=1e-10)
    unbiased = nn.Linear(40, 24, bias=False).double()
    with pytest.raises(ValueError, match="need a bias"):
        factorize_ranked(nn.Sequential(unbiased), {"0": factors}, {"0": 5})


def test_bad_arguments_are_refused(problem):
    weight, inputs = problem
    with pytest.raises(ValueError, match="method must be one of"):
        truncated_factors(weight, 3, "magic")
    with pytest.raises(ValueError, match="needs the statistics"):
        truncated_factors(weight, 3, "whiten")
    with pytest.raises(ValueError, match="40"):
        truncated_factors(weight, 3, "whiten", statistics_of(inputs[:, :30]))
    with pytest.raises(ValueError, match="rank must be"):
        truncated_factors(weight, 25, "plain")


def test_from_factors_checks_shapes_and_keeps_the_bias():
    layer = nn.Linear(6, 4)
    left, right = torch.randn(4, 2), torch.randn(2, 6)
    factorized = FactorizedLinear.from_factors(layer, left, right)
    assert torch.equal(factorized.dense_weight(), left @ right)
    assert torch.equal(factorized.expand.bias, layer.bias)
    with pytest.raises(ValueError, match="shapes"):
        FactorizedLinear.from_factors(layer, left, torch.randn(3, 6))


def test_factorize_layers_uses_a_given_factorizer():
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    seen = []

    def factorizer(name, layer, rank):
        seen.append((name, rank))
        return FactorizedLinear.from_linear(layer, rank)

    compressed = factorize_layers(model, {"0": 2, "2": 1}, factorizer)
    assert seen == [("0", 2), ("2", 1)]
    assert isinstance(compressed[0], FactorizedLinear) and compressed[2].rank == 1
    assert isinstance(model[0], nn.Linear)


# --- a tiny randomly initialised BERT encoder (transformers, no download) ----------------


@pytest.fixture(scope="module")
def tiny_bert():
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=50,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=32,
    )
    return transformers.BertModel(config).eval()


def tiny_batches(count: int = 4):
    generator = torch.Generator().manual_seed(2)
    batches = []
    for index in range(count):
        ids = torch.randint(5, 50, (3, 10), generator=generator)
        mask = torch.ones(3, 10, dtype=torch.long)
        mask[index % 3, 6:] = 0  # one text per batch is shorter: padding follows it
        batches.append({"input_ids": ids * mask, "attention_mask": mask})
    return batches


def run_bert(model, batch):
    return model(**batch).last_hidden_state


def encoder_names(model):
    return [
        name
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and name.startswith("encoder.")
    ]


def test_statistics_skip_padding_and_hooks_are_removed(tiny_bert):
    names = encoder_names(tiny_bert)
    batches = tiny_batches()
    statistics = collect_input_statistics(
        tiny_bert, names, batches, run_bert, lambda batch: batch["attention_mask"]
    )
    real_tokens = sum(int(batch["attention_mask"].sum()) for batch in batches)
    assert len(statistics) == 12
    assert {s.count for s in statistics.values()} == {real_tokens}
    assert statistics["encoder.layer.0.output.dense"].features == 64
    assert all(not module._forward_hooks for module in tiny_bert.modules())
    unmasked = collect_input_statistics(tiny_bert, names[:1], batches, run_bert)
    assert unmasked[names[0]].count == 4 * 3 * 10


@torch.no_grad()
def test_factorizing_the_tiny_transformer(tiny_bert):
    names = encoder_names(tiny_bert)
    batches = tiny_batches()
    mask = lambda batch: batch["attention_mask"]  # noqa: E731
    statistics = collect_input_statistics(tiny_bert, names, batches, run_bert, mask)
    original = [run_bert(tiny_bert, batch) for batch in batches]

    def factorized(ranks, method):
        factors = {
            name: ranked_factors(
                tiny_bert.get_submodule(name).weight,
                method,
                statistics[name] if method != "plain" else None,
            )
            for name in names
        }
        return factorize_ranked(tiny_bert, factors, ranks)

    full = factorized({name: 32 for name in names}, "whiten")
    for batch, expected in zip(batches, original, strict=True):
        assert torch.allclose(run_bert(full, batch), expected, atol=1e-4)

    ranks = {name: 8 for name in names}
    whitened = factorized(ranks, "whiten")
    plain = factorized(ranks, "plain")
    assert all(isinstance(whitened.get_submodule(name), FactorizedLinear) for name in names)
    assert isinstance(tiny_bert.get_submodule(names[0]), nn.Linear)  # original untouched
    assert torch.equal(
        whitened.embeddings.word_embeddings.weight, tiny_bert.embeddings.word_embeddings.weight
    )
    layer = tiny_bert.get_submodule(names[0])
    assert torch.equal(whitened.get_submodule(names[0]).expand.bias, layer.bias)

    def distance(model):
        return sum(
            float(((run_bert(model, b) - o)[b["attention_mask"].bool()]).norm())
            for b, o in zip(batches, original, strict=True)
        )

    assert distance(whitened) < distance(plain)
    with pytest.raises(KeyError, match="no factors for layers"):
        factorize_ranked(tiny_bert, {}, ranks)
