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


def _first_rank_reaching(shares: list[float], target: float) -> int:
    # a naive answer to 03's exercise 4: never reaches a target the float sum falls short of
    return next(k for k, share in enumerate(shares, start=1) if share >= target)


def _test_first_rank(function) -> None:
    assert function([0.5, 1.0 - 1e-16], 1.0) == 2, "the last rank keeps all the energy"


def test_an_exception_from_the_answer_is_named_without_a_traceback() -> None:
    with pytest.raises(AssertionError) as raised:
        check(_first_rank_reaching, _test_first_rank)
    assert str(raised.value).startswith("Not yet: your function raised StopIteration.")
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    with pytest.raises(AssertionError, match=r"^Not yet: your function raised ZeroDivisionError: "):
        check(lambda: 1 / 0, lambda function: function())
    with pytest.raises(AssertionError, match=r"^Not yet: checking your answer raised TypeError: "):
        check("7", _is_seven_plus_zero)


def _is_seven_plus_zero(answer: int) -> None:
    assert answer + 0 == 7, f"expected 7, got {answer}"


def test_a_worked_solution_that_raises_fails_the_run() -> None:
    with pytest.raises(StopIteration):
        check_solution(_first_rank_reaching, _test_first_rank)
