"""Paired comparisons of two methods over seeds: the gap seed by seed, and a verdict only when
its 95% interval clears a margin (written out in 07_is_it_worth_it; used in
10_bytes_not_parameters)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from course_utils.seeds import Spread, select

VERDICTS = ("ahead", "behind", "not resolved")


def paired_gaps(
    rows: Iterable[Mapping[str, Any]],
    first: str,
    second: str,
    value: str = "accuracy",
    **where: Any,
) -> list[float]:
    """``first`` minus ``second`` seed by seed, from rows with ``method``, ``seed`` and ``value``
    matching ``where`` (e.g. ``share=0.01``); an error unless both have the same seeds."""
    rows = list(rows)

    def by_seed(method: str) -> dict[Any, float]:
        return {row["seed"]: row[value] for row in select(rows, method=method, **where)}

    a, b = by_seed(first), by_seed(second)
    if not a or a.keys() != b.keys():
        raise ValueError(
            f"{first!r} has seeds {sorted(a)} and {second!r} has {sorted(b)} where {where}; "
            f"a paired gap needs the same seeds on both sides"
        )
    return [a[seed] - b[seed] for seed in sorted(a)]


def verdict(gap: Spread, margin: float) -> str:
    """ "ahead" when the gap's 95% interval lies above ``margin``, "behind" when below
    ``-margin``, else "not resolved"."""
    low, high = gap.interval()
    if low > margin:
        return "ahead"
    if high < -margin:
        return "behind"
    return "not resolved"
