"""Checks for the exercises at the end of every notebook: try first, look second.

Each exercise has a starter cell, where the reader replaces ``...`` (or a function's
``raise NotImplementedError``) and calls :func:`check` with a test written beside it, and a
folded worked solution that calls :func:`check_solution` with the same test. The starter cell
runs cleanly before it is answered; the solution cell raises if the solution is wrong, so a wrong
solution fails the notebook's nbval run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

NOT_ANSWERED = (
    "Not answered yet: replace the `...` (or the `raise NotImplementedError`) with your answer, "
    "then run this cell again."
)
ANSWER_PASSES = "✓ Your answer passes the check."
SOLUTION_PASSES = "✓ The worked solution passes the check."


def check(answer: Any, test: Callable[[Any], object]) -> None:
    """Run ``test(answer)`` on a reader's answer and say whether it passes.

    ``answer`` still ``...``, or a test that meets ``NotImplementedError``, means not answered
    yet: a message says what to do and nothing fails. A failing test raises ``AssertionError``
    with its message; any other exception (a ``StopIteration`` from an answer's ``next``, say)
    becomes an ``AssertionError`` naming it, without the traceback. Returns nothing, so a
    starter cell shows only the message."""
    if answer is Ellipsis:
        print(NOT_ANSWERED)
        return
    try:
        test(answer)
    except NotImplementedError:
        print(NOT_ANSWERED)
        return
    except AssertionError as failure:
        detail = f": {failure}" if str(failure) else ""
        raise AssertionError(
            f"Not yet{detail}. Change your answer and run the cell again."
        ) from None
    except Exception as error:  # the reader's code crashed: say what it raised, no traceback
        who = "your function" if callable(answer) else "checking your answer"
        detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        raise AssertionError(
            f"Not yet: {who} raised {detail}. Change your answer and run the cell again."
        ) from None
    print(ANSWER_PASSES)


def check_solution(solution: Any, test: Callable[[Any], object]) -> None:
    """Run ``test(solution)`` on a worked solution: anything but a pass raises, so a wrong or
    unfinished solution fails the notebook's test run."""
    if solution is Ellipsis:
        raise AssertionError("the worked solution is still `...`")
    try:
        test(solution)
    except NotImplementedError as unfinished:
        raise AssertionError(
            "the worked solution is unfinished (NotImplementedError)"
        ) from unfinished
    print(SOLUTION_PASSES)
