"""Repeat an experiment over several seeds and summarise it as a tidy table: one row (a plain
dict) per measurement, then mean, standard deviation, minimum and maximum per group, so signal
can be told from noise (introduced in 07_is_it_worth_it). Plain Python: no pandas needed."""

from __future__ import annotations

import hashlib
import json
import math
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from course_utils.files import write_text_atomically
from course_utils.paths import artifacts_dir

Row = dict[str, Any]
SPREAD_COLUMNS = ("count", "mean", "std", "min", "max")
# Student's t, 97.5% quantile, by degrees of freedom (two-sided 95% intervals)
T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


def run_seeds(
    experiment: Callable[[int], Mapping[str, Any] | Iterable[Mapping[str, Any]]],
    seeds: Iterable[int],
) -> list[Row]:
    """Call ``experiment(seed)`` for each seed and collect its rows, each tagged with ``seed``.

    ``experiment`` returns one row (a mapping such as ``{"accuracy": 0.95}``) or several (for
    example one per method and budget). Rows come back in the order of the seeds.
    """
    rows: list[Row] = []
    for seed in seeds:
        result = experiment(seed)
        records = [result] if isinstance(result, Mapping) else list(result)
        for record in records:
            if not isinstance(record, Mapping):
                raise TypeError(f"experiment rows must be mappings, got {type(record).__name__}")
            if "seed" in record and record["seed"] != seed:
                raise ValueError(f"a row for seed {seed} says seed={record['seed']!r}")
            rows.append({"seed": seed, **record})
    return rows


def weights_fingerprint(model: torch.nn.Module) -> str:
    """A short hash of every tensor in ``model``'s state dict: two models get the same
    fingerprint only if their weights are bit-identical (a cache key for results computed from a
    trained model, 07_is_it_worth_it)."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def cached_rows(
    name: str,
    settings: Mapping[str, Any],
    compute: Callable[[], Iterable[Mapping[str, Any]]],
    *,
    refresh: bool = False,
) -> list[Row]:
    """The rows ``compute()`` returns, computed once and then read back from the artifacts folder
    (07_is_it_worth_it caches its small trained models' results this way, as 01_train caches the
    base model).

    ``settings`` must hold everything that decides the rows (seeds, ranks, sample counts, the
    fingerprint of a base model, ...); the torch version is added. The file is named after
    ``name`` and a hash of the settings, and a file whose stored settings differ is recomputed,
    never used. Pass ``refresh=True`` after changing how the rows are computed.
    """
    key = {**settings, "torch": str(torch.__version__)}
    text = json.dumps(key, sort_keys=True)
    path = artifacts_dir() / f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:16]}.json"
    if path.exists() and not refresh:
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            stored = {}
        if isinstance(stored, dict) and stored.get("settings") == json.loads(text):
            return [dict(row) for row in stored["rows"]]
    rows = [dict(row) for row in compute()]
    payload = {"settings": json.loads(text), "rows": rows}
    write_text_atomically(path, json.dumps(payload, indent=1))
    return rows


@dataclass(frozen=True)
class Spread:
    """How a number varies across seeds; ``std`` is the sample standard deviation (n − 1), NaN
    for a single value."""

    count: int
    mean: float
    std: float
    min: float
    max: float

    def format(self, scale: float = 1.0, digits: int = 2) -> str:
        """``"mean ± std"`` with every number multiplied by ``scale`` (100 for percentages)."""
        return f"{self.mean * scale:.{digits}f} ± {self.std * scale:.{digits}f}"

    def interval(self) -> tuple[float, float]:
        """The 95% confidence interval of the mean, ``mean ± t · std / √count``, with Student's
        t for ``count − 1`` degrees of freedom. For paired differences (the same seed on both
        sides) it is the paired t-interval: a gap whose interval excludes 0 is unlikely to be
        seed noise."""
        if self.count < 2:
            raise ValueError("a confidence interval needs at least two values")
        if self.count - 1 not in T_975:
            raise ValueError(f"t quantiles are tabulated for 2 to {max(T_975) + 1} values")
        half_width = T_975[self.count - 1] * self.std / math.sqrt(self.count)
        return self.mean - half_width, self.mean + half_width


def spread(values: Iterable[float]) -> Spread:
    """Count, mean, standard deviation, minimum and maximum of ``values`` (at least one)."""
    numbers = [float(value) for value in values]
    if not numbers:
        raise ValueError("spread of no values is undefined")
    std = statistics.stdev(numbers) if len(numbers) > 1 else math.nan
    return Spread(len(numbers), statistics.fmean(numbers), std, min(numbers), max(numbers))


def select(table: Iterable[Mapping[str, Any]], /, **conditions: Any) -> list[Row]:
    """The rows whose columns equal every ``column=value`` given."""
    return [
        dict(row)
        for row in table
        if all(column in row and row[column] == value for column, value in conditions.items())
    ]


def summarize(rows: Iterable[Mapping[str, Any]], value: str, by: Sequence[str] = ()) -> list[Row]:
    """One row per group of equal ``by`` columns: those columns, then count, mean, std, min and
    max of ``value``. Groups keep the order in which they first appear; rows lacking ``value``
    are an error, not silently skipped."""
    groups: dict[tuple, list[float]] = {}
    for row in rows:
        missing = [column for column in (*by, value) if column not in row]
        if missing:
            raise KeyError(f"row {dict(row)} has no column {missing[0]!r}")
        groups.setdefault(tuple(row[column] for column in by), []).append(row[value])
    summary = []
    for key, values in groups.items():
        statistics_row = spread(values)
        summary.append(
            {
                **dict(zip(by, key, strict=True)),
                **{column: getattr(statistics_row, column) for column in SPREAD_COLUMNS},
            }
        )
    return summary


def spread_of(summary: Iterable[Mapping[str, Any]], /, **keys: Any) -> Spread:
    """The :class:`Spread` of the one summary row matching ``keys``; an error unless exactly one."""
    matches = select(summary, **keys)
    if len(matches) != 1:
        raise KeyError(f"{len(matches)} summary rows match {keys}, expected exactly one")
    return Spread(*(matches[0][column] for column in SPREAD_COLUMNS))


def markdown_table(
    summary: Iterable[Mapping[str, Any]],
    rows: str,
    columns: str,
    *,
    scale: float = 1.0,
    digits: int = 2,
    row_title: str | None = None,
    column_label: Callable[[Any], str] = str,
) -> str:
    """A Markdown table of ``mean ± std``: one line per value of ``rows``, one column per value of
    ``columns`` (both in order of first appearance); a missing cell is shown as ``–``."""
    summary = list(summary)
    row_values = list(dict.fromkeys(row[rows] for row in summary))
    column_values = list(dict.fromkeys(row[columns] for row in summary))
    header = [row_title or rows, *(column_label(value) for value in column_values)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row_value in row_values:
        cells = [str(row_value)]
        for column_value in column_values:
            matches = select(summary, **{rows: row_value, columns: column_value})
            cells.append(spread_of(matches).format(scale, digits) if matches else "–")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
