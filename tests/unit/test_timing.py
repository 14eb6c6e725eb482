"""timing: medians of timed calls, and interleaved rounds for fair ratios."""

import time

import pytest

from course_utils import timing as timing_module
from course_utils.timing import time_call, time_interleaved


def test_time_call_counts_calls_and_measures_them():
    calls = []
    timing = time_call(lambda: calls.append(time.sleep(0.002)), repeats=5, warmup=2)
    assert len(calls) == 7, "two warm-up calls, then five timed ones"
    assert timing.repeats == 5
    assert 0.002 <= timing.p05 <= timing.median <= timing.p95


def test_time_interleaved_takes_turns():
    order = []
    timings = time_interleaved(
        {"a": lambda: order.append("a"), "b": lambda: order.append("b")},
        rounds=3,
        repeats=2,
        warmup=1,
    )
    assert order == ["a"] * 3 + ["b"] * 3 + ["a"] * 3 + ["b"] * 3 + ["a"] * 3 + ["b"] * 3
    assert {name: timing.repeats for name, timing in timings.items()} == {"a": 6, "b": 6}


def test_time_interleaved_times_each_call_of_each_function(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(timing_module.time, "perf_counter", lambda: clock[0])

    def takes(seconds):
        def run():
            clock[0] += seconds

        return run

    timings = time_interleaved({"fast": takes(1.0), "slow": takes(5.0)}, rounds=3, repeats=2)
    assert (timings["fast"].median, timings["slow"].median) == (1.0, 5.0)
    assert (timings["slow"].p05, timings["slow"].p95) == (5.0, 5.0)


@pytest.mark.parametrize("arguments", [{"repeats": 0}, {"warmup": -1}, {"rounds": 0}])
def test_bad_counts_are_refused(arguments):
    with pytest.raises(ValueError, match="must be ≥"):
        time_interleaved({"a": lambda: None}, **arguments)
