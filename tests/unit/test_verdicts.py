"""Paired gaps and verdicts with a margin, on hand-made rows."""

import pytest

from course_utils.seeds import spread
from course_utils.verdicts import paired_gaps, verdict


def test_paired_gaps_pair_by_seed_whatever_the_order():
    measured = [(1, "a", 0.1, 0.90), (0, "a", 0.1, 0.80), (0, "b", 0.1, 0.75), (1, "b", 0.1, 0.95)]
    measured.append((0, "b", 0.2, 0.0))  # a budget where "a" was not measured
    keys = ("seed", "method", "share", "accuracy")
    rows = [dict(zip(keys, values, strict=True)) for values in measured]
    assert paired_gaps(rows, "a", "b", share=0.1) == pytest.approx([0.05, -0.05])
    with pytest.raises(ValueError, match="same seeds"):
        paired_gaps(rows, "a", "b", share=0.2)


def test_verdicts_need_the_interval_past_the_margin():
    tiny = [0.0010, 0.0015, 0.0012, 0.0011, 0.0013]
    assert verdict(spread(tiny), 0.0) == "ahead"
    assert verdict(spread(tiny), 0.002) == "not resolved"
    assert verdict(spread([-g for g in tiny]), 0.0) == "behind"
    assert verdict(spread([0.01, -0.01, 0.02]), 0.002) == "not resolved"
