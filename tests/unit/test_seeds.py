"""seeds: a tidy table from repeated runs, and its summary by group."""

import math

import pytest
import torch

from course_utils.models import SimpleNN
from course_utils.seeds import (
    Spread,
    cached_rows,
    markdown_table,
    run_seeds,
    select,
    spread,
    spread_of,
    summarize,
    weights_fingerprint,
)


def test_run_seeds_tags_each_row_with_its_seed():
    rows = run_seeds(lambda seed: {"accuracy": seed / 10}, [3, 1])
    assert rows == [{"seed": 3, "accuracy": 0.3}, {"seed": 1, "accuracy": 0.1}]


def test_run_seeds_accepts_several_rows_per_seed():
    def experiment(seed):
        return [{"method": name, "value": seed} for name in ("a", "b")]

    rows = run_seeds(experiment, range(2))
    assert [(row["seed"], row["method"]) for row in rows] == [
        (0, "a"),
        (0, "b"),
        (1, "a"),
        (1, "b"),
    ]


def test_run_seeds_calls_the_experiment_once_per_seed():
    calls = []
    run_seeds(lambda seed: calls.append(seed) or {"x": 1}, [5, 6, 7])
    assert calls == [5, 6, 7]


def test_run_seeds_refuses_inconsistent_rows():
    with pytest.raises(ValueError, match="seed=2"):
        run_seeds(lambda seed: {"seed": 2, "x": 1}, [1])
    with pytest.raises(TypeError, match="mappings"):
        run_seeds(lambda seed: [1, 2], [1])


def test_spread_of_known_values():
    result = spread([1.0, 2.0, 3.0, 4.0])
    assert result.count == 4
    assert result.mean == 2.5
    assert result.std == pytest.approx(math.sqrt(5 / 3))  # sample standard deviation (n - 1)
    assert (result.min, result.max) == (1.0, 4.0)


def test_spread_of_one_value_has_no_standard_deviation():
    result = spread([0.9])
    assert result.mean == 0.9 and math.isnan(result.std)
    with pytest.raises(ValueError, match="no values"):
        spread([])


def test_spread_format_scales_and_rounds():
    assert Spread(5, 0.96123, 0.00149, 0.96, 0.963).format(100, 1) == "96.1 ± 0.1"
    assert spread([2.0, 4.0]).format() == "3.00 ± 1.41"


ROWS = [
    {"seed": 0, "method": "svd", "rank": 3, "accuracy": 0.5},
    {"seed": 0, "method": "svd", "rank": 15, "accuracy": 0.9},
    {"seed": 1, "method": "svd", "rank": 3, "accuracy": 0.7},
    {"seed": 1, "method": "svd", "rank": 15, "accuracy": 0.95},
    {"seed": 0, "method": "mlp", "rank": 3, "accuracy": 0.8},
    {"seed": 1, "method": "mlp", "rank": 3, "accuracy": 0.8},
]


def test_summarize_groups_in_order_of_first_appearance():
    summary = summarize(ROWS, "accuracy", by=("method", "rank"))
    assert [(row["method"], row["rank"], row["count"]) for row in summary] == [
        ("svd", 3, 2),
        ("svd", 15, 2),
        ("mlp", 3, 2),
    ]
    assert summary[0]["mean"] == pytest.approx(0.6)
    assert summary[0]["min"] == 0.5 and summary[0]["max"] == 0.7
    assert summary[2]["std"] == 0.0


def test_summarize_without_groups_summarizes_everything():
    (only,) = summarize(ROWS, "accuracy")
    assert only["count"] == 6 and set(only) == {"count", "mean", "std", "min", "max"}


def test_summarize_refuses_rows_without_the_column():
    with pytest.raises(KeyError, match="accuracy"):
        summarize([{"method": "svd"}], "accuracy", by=("method",))


def test_select_and_spread_of_find_one_group():
    assert len(select(ROWS, method="svd", rank=3)) == 2
    assert select(ROWS, method="none") == []
    summary = summarize(ROWS, "accuracy", by=("method", "rank"))
    assert spread_of(summary, method="svd", rank=15).mean == pytest.approx(0.925)
    with pytest.raises(KeyError, match="2 summary rows"):
        spread_of(summary, method="svd")


def test_markdown_table_lays_methods_against_budgets():
    summary = summarize(ROWS, "accuracy", by=("method", "rank"))
    table = markdown_table(
        summary, "method", "rank", scale=100, digits=1, column_label=lambda k: f"k={k}"
    )
    assert table.splitlines() == [
        "| method | k=3 | k=15 |",
        "|---|---|---|",
        "| svd | 60.0 ± 14.1 | 92.5 ± 3.5 |",
        "| mlp | 80.0 ± 0.0 | – |",
    ]


def test_interval_is_the_paired_t_interval():
    result = spread([0.01, 0.02, 0.03, 0.02, 0.02])
    low, high = result.interval()
    half = 2.776 * result.std / 5**0.5
    assert (low, high) == pytest.approx((0.02 - half, 0.02 + half))
    assert low > 0  # a gap like this one is unlikely to be seed noise


def test_interval_needs_two_to_ten_values():
    with pytest.raises(ValueError, match="at least two"):
        spread([1.0]).interval()
    with pytest.raises(ValueError, match="tabulated"):
        spread(range(11)).interval()


def test_cached_rows_computes_once_per_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_ARTIFACTS_DIR", str(tmp_path))
    calls = []

    def compute(value):
        calls.append(value)
        return [{"method": "svd", "accuracy": value}]

    assert cached_rows("grid", {"seed": 0}, lambda: compute(0.5)) == [
        {"method": "svd", "accuracy": 0.5}
    ]
    assert cached_rows("grid", {"seed": 0}, lambda: compute(0.9))[0]["accuracy"] == 0.5
    assert calls == [0.5], "the second call should read the file"
    assert cached_rows("grid", {"seed": 1}, lambda: compute(0.7))[0]["accuracy"] == 0.7
    assert cached_rows("grid", {"seed": 0}, lambda: compute(0.8), refresh=True)[0][
        "accuracy"
    ] == pytest.approx(0.8)
    assert calls == [0.5, 0.7, 0.8]


def test_cached_rows_never_uses_a_file_with_other_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_ARTIFACTS_DIR", str(tmp_path))
    cached_rows("grid", {"seed": 0}, lambda: [{"x": 1}])
    (path,) = tmp_path.glob("grid-*.json")
    stored = path.read_text(encoding="utf-8")
    path.write_text(stored.replace('"seed": 0', '"seed": 9'), encoding="utf-8")
    assert cached_rows("grid", {"seed": 0}, lambda: [{"x": 2}]) == [{"x": 2}]
    path.write_text("{not json", encoding="utf-8")
    assert cached_rows("grid", {"seed": 0}, lambda: [{"x": 3}]) == [{"x": 3}]


def test_weights_fingerprint_changes_with_any_weight():
    torch.manual_seed(0)
    model = SimpleNN(4)
    same = SimpleNN(4)
    same.load_state_dict(model.state_dict())
    assert weights_fingerprint(model) == weights_fingerprint(same)
    with torch.no_grad():
        same.fc2.bias[0] += 1e-7
    assert weights_fingerprint(model) != weights_fingerprint(same)
