"""The benchmark report (benchmarks/report.py): a well-formed table and JSON from a set of
results. The results here are made up; nothing is measured."""

import json
from dataclasses import asdict

from benchmarks.measure import Settings
from benchmarks.report import TABLE_HEADER, to_json, to_markdown

KEYS = ["1a", "1b", "1c", "1d", "1e", "1f", "2", "3", "4"]


def synthetic_document(test_suite: bool = False) -> dict:
    """A document shaped like ``benchmarks.run`` writes, with round numbers."""
    gemm = {"name": "fc1 forward (x·W1ᵀ)", "m": 64, "k": 784, "n": 500}
    gemm |= {"flops": 2 * 64 * 784 * 500, "median_s": 1e-4, "gflops_per_s": 500.0}
    training = {
        "samples": 3_200,
        "batch_size": 64,
        "seeds": [0],
        "recipe_median_s": 3.0,
        "fast_median_s": 1.0,
        "floor_s": 0.8,
        "speedup_fast_vs_recipe": 3.0,
        "fast_over_floor": 1.25,
        "recipe_over_floor": 3.75,
        "fast_mean_accuracy": 0.91,
        "recipe_mean_accuracy": 0.92,
        "accuracy_difference_points": -1.0,
        "epoch_gflop_run": 12.3,
        "epoch_gflop_three_forwards": 15.0,
        "gemm_gflops_per_s_64x784x500": 500.0,
        "gemms": [gemm],
    }
    rows = [
        {"batch": batch, "rank": rank, "dense_s": 0.01, "factorized_s": 0.01 / speedup}
        | {"dense_images_per_s": batch / 0.01, "factorized_images_per_s": batch * speedup / 0.01}
        | {"speedup": speedup}
        for batch, rank, speedup in [(1, 10, 0.9), (10_000, 10, 6.0), (10_000, 300, 0.8)]
    ]
    results = {
        "training": training,
        "slider": {"timed": "update", "moves": 10, "p50_s": 0.01, "p95_s": 0.08, "p05_s": 0.005},
        "sweep": {"ranks": [1, 250, 500], "median_s": 1.5, "setup_median_s": 0.5},
        "inference": {"rows": rows, "first_rank_not_faster": {"1": 10, "10000": 300}},
    }
    if test_suite:
        results["test_suite"] = {
            "command": "make test",
            "seconds": 400.0,
            "exit_code": 0,
            "summary": "300 passed",
            "failures": [],
        }
    machine = {
        "device": "cpu",
        "device_name": "a test CPU",
        "cpu_model": "a test CPU",
        "cpu_cores": 2,
        "usable_cores": 2,
        "torch": "2.x",
        "cuda": None,
        "torch_threads": 2,
        "torch_interop_threads": 2,
        "python": "3.11",
        "platform": "linux",
        "date": "2025-01-01 00:00 UTC",
        "load_average_at_start": [1.0, 1.0, 1.0],
    }
    settings = asdict(Settings.quick_settings())
    return {"machine": machine, "settings": settings, "results": results}


def _table(markdown: str) -> list[list[str]]:
    lines = markdown.splitlines()
    start = lines.index(TABLE_HEADER)
    table = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        assert line.endswith("|") and line.count("|") == 6, line
        table.append([cell.strip() for cell in line.strip("|").split("|")])
    return table


def test_the_table_has_one_row_per_measurement_and_says_which_targets_are_met():
    markdown = to_markdown(synthetic_document())
    assert markdown.startswith("# Benchmarks on cpu: a test CPU")
    assert "QUICK run" in markdown
    table = _table(markdown)
    assert len(table) == 2 + len(KEYS)  # header, rule, one row per measurement
    met = {cells[0]: cells[4] for cells in table[2:]}
    assert list(met) == KEYS
    assert met == {
        "1a": "",
        "1b": "",
        "1c": "",
        "1d": "yes",  # 3× ≥ 2×
        "1e": "yes",  # 1.25× ≤ 1.5×
        "1f": "**no**",  # −1 point is outside ±0.5
        "2": "**no**",  # p95 80 ms > 50 ms
        "3": "yes",
        "4": "yes",  # rank 10 at the largest batch: 6×
    }
    assert all(cells[2] for cells in table[2:])
    assert "| 10,000 | 10 | 10.000 ms | 1.667 ms |" in markdown
    assert "- batch 1: factorized stops paying at rank 10" in markdown


def test_the_test_suite_adds_a_row_and_the_json_carries_the_summary():
    document = synthetic_document(test_suite=True)
    assert [cells[0] for cells in _table(to_markdown(document))[2:]] == [*KEYS, "5"]
    parsed = json.loads(to_json(document))
    assert {"machine", "settings", "results", "summary"} <= parsed.keys()
    assert parsed["settings"]["quick"] is True
    assert parsed["settings"]["seeds"] == [0]  # tuples are written as JSON lists
    assert [row["key"] for row in parsed["summary"]] == [*KEYS, "5"]
    assert parsed["summary"][-1]["met"] is False  # 400 s > 5 min
