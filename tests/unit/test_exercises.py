"""The exercise checks: an unanswered starter runs cleanly, a wrong answer or solution fails."""

from __future__ import annotations

import pytest

from course_utils.exercises import (
    ANSWER_PASSES,
    NOT_ANSWERED,
    SOLUTION_PASSES,
    check,
    check_solution,
)


def _is_seven(answer: int) -> None:
    assert answer == 7, f"expected 7, got {answer}"


def _unfinished(_: int) -> None:
    raise NotImplementedError


def test_an_unanswered_starter_says_so_and_does_not_fail(capsys: pytest.CaptureFixture) -> None:
    check(..., _is_seven)
    check(lambda: None, lambda function: _unfinished(function()))
    assert capsys.readouterr().out == 2 * (NOT_ANSWERED + "\n")


def test_a_right_answer_passes(capsys: pytest.CaptureFixture) -> None:
    check(7, _is_seven)
    assert capsys.readouterr().out == ANSWER_PASSES + "\n"


def test_a_wrong_answer_fails_with_the_tests_message() -> None:
    with pytest.raises(AssertionError, match="Not yet: expected 7, got 8"):
        check(8, _is_seven)


def test_a_worked_solution_must_pass(capsys: pytest.CaptureFixture) -> None:
    check_solution(7, _is_seven)
    assert capsys.readouterr().out == SOLUTION_PASSES + "\n"
    with pytest.raises(AssertionError, match="expected 7, got 8"):
        check_solution(8, _is_seven)
    with pytest.raises(AssertionError, match=r"still `\.\.\.`"):
        check_solution(..., _is_seven)
    with pytest.raises(AssertionError, match="unfinished"):
        check_solution(7, _unfinished)
