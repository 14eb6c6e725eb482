"""The benchmark command runs and writes a well-formed table and JSON (no timing asserted)."""

import json
import math
import subprocess
import sys
from pathlib import Path

import torch

from benchmarks.report import TABLE_HEADER

ROOT = Path(__file__).resolve().parents[2]


def positive_numbers(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def test_quick_benchmark_writes_a_table_and_json(tmp_path):
    finished = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--output", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        f"{device}.{suffix}" for device in devices for suffix in ("json", "md")
    )
    for device in devices:
        document = json.loads((tmp_path / f"{device}.json").read_text())
        assert {"machine", "settings", "results", "summary"} <= document.keys()
        machine = document["machine"]
        assert machine["device"] == device and machine["torch"] == torch.__version__
        assert machine["cpu_cores"] >= 1 and machine["torch_threads"] >= 1
        assert document["settings"]["quick"] is True
        results = document["results"]
        training = results["training"]
        for key in ("recipe_median_s", "fast_median_s", "floor_s", "speedup_fast_vs_recipe"):
            assert positive_numbers(training[key]), key
        assert 0 < training["fast_mean_accuracy"] <= 1
        assert positive_numbers(results["slider"]["p95_s"])
        assert positive_numbers(results["sweep"]["median_s"])
        assert results["inference"]["rows"]
        assert all(positive_numbers(row["speedup"]) for row in results["inference"]["rows"])
        assert "test_suite" not in results  # only with --test-suite
        keys = [row["key"] for row in document["summary"]]
        assert keys == ["1a", "1b", "1c", "1d", "1e", "1f", "2", "3", "4"]
        assert all(row["met"] in (True, False, None) for row in document["summary"])

        lines = (tmp_path / f"{device}.md").read_text().splitlines()
        assert lines[0].startswith(f"# Benchmarks on {device}")
        start = lines.index(TABLE_HEADER)
        table = []
        for line in lines[start:]:
            if not line.startswith("|"):
                break
            table.append(line)
        assert len(table) == 2 + len(keys)  # header, rule, one row per measurement
        for line in table:
            assert line.endswith("|") and line.count("|") == 6, line
        for line, key in zip(table[2:], keys, strict=True):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            assert cells[0] == key and cells[2]
            assert cells[4] in ("", "yes", "**no**")
