"""Paired gaps and verdicts with a margin, on hand-made rows."""

import pytest

from course_utils.seeds import spread
from course_utils.verdicts import paired_gaps, verdict


def test_paired_gaps_pair_by_seed_whatever_the_order():
    rows = [
        {"seed": 1, "method": "a", "share": 0.1, "accuracy": 0.90},
        {"seed": 0, "method": "a", "share": 0.1, "accuracy": 0.80},
        {"seed": 0, "method": "b", "share": 0.1, "accuracy": 0.75},
        {"seed": 1, "method": "b", "share": 0.1, "accuracy": 0.95},
        {"seed": 0, "method": "b", "share": 0.2, "accuracy": 0.00},
    ]
    assert paired_gaps(rows, "a", "b", share=0.1) == pytest.approx([0.05, -0.05])
    with pytest.raises(ValueError, match="same seeds"):
        paired_gaps(rows, "a", "b", share=0.2)


def test_verdicts_need_the_interval_past_the_margin():
    tiny = [0.0010, 0.0015, 0.0012, 0.0011, 0.0013]
    assert verdict(spread(tiny), 0.0) == "ahead"
    assert verdict(spread(tiny), 0.002) == "not resolved"
    assert verdict(spread([-g for g in tiny]), 0.0) == "behind"
    assert verdict(spread([0.01, -0.01, 0.02]), 0.002) == "not resolved"
