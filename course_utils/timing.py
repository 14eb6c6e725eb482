"""Honest timing: warm-up, device synchronisation, median and spread of repeats (used by
09_speed_and_memory and by benchmarks/)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Timing:
    """Seconds per call: median, 5th and 95th percentile over ``repeats`` calls."""

    median: float
    p05: float
    p95: float
    repeats: int


def synchronize(device: torch.device | str) -> None:
    """Wait for queued CUDA work, so a timer measures the work and not its launch."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def _quantile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def _check_counts(repeats: int, warmup: int) -> None:
    if repeats < 1 or warmup < 0:
        raise ValueError(f"repeats must be ≥ 1 and warmup ≥ 0, got {repeats} and {warmup}")


def _samples(
    function: Callable[[], object], repeats: int, warmup: int, device: torch.device | str
) -> list[float]:
    for _ in range(warmup):
        function()
    synchronize(device)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        synchronize(device)
        samples.append(time.perf_counter() - start)
    return samples


def _timing(samples: list[float]) -> Timing:
    ordered = sorted(samples)
    return Timing(
        statistics.median(ordered),
        _quantile(ordered, 0.05),
        _quantile(ordered, 0.95),
        len(ordered),
    )


def time_call(
    function: Callable[[], object],
    *,
    repeats: int = 20,
    warmup: int = 3,
    device: torch.device | str = "cpu",
) -> Timing:
    """Time ``function()`` after ``warmup`` untimed calls; each call is timed on its own."""
    _check_counts(repeats, warmup)
    return _timing(_samples(function, repeats, warmup, device))


def time_interleaved(
    functions: dict[Hashable, Callable[[], object]],
    *,
    rounds: int = 5,
    repeats: int = 3,
    warmup: int = 1,
    device: torch.device | str = "cpu",
) -> dict[Hashable, Timing]:
    """Time several functions in turns: each round times every function ``repeats`` times
    (after ``warmup`` untimed calls), so a busy spell on a shared machine slows them all alike
    and their ratios stay fair (09_speed_and_memory). Medians over all ``rounds · repeats``
    calls."""
    _check_counts(repeats, warmup)
    if rounds < 1:
        raise ValueError(f"rounds must be ≥ 1, got {rounds}")
    samples: dict[Hashable, list[float]] = {name: [] for name in functions}
    for _ in range(rounds):
        for name, function in functions.items():
            samples[name].extend(_samples(function, repeats, warmup, device))
    return {name: _timing(values) for name, values in samples.items()}
