"""Hypothesis as a search for one failure, with shrinking boxed in time.

Shrinking a case the interpreter takes seconds to run can take minutes; a time box keeps the tools
responsive. Once the box closes, cases not already known to fail count as passing, so Hypothesis
stops with the smallest failure found so far (which it replays, and which still fails).
"""

from __future__ import annotations

import time
from typing import Callable

from hypothesis import HealthCheck, Phase, given, seed, settings

from properties.cases import ReplayCase
from properties.failures import Failure


def find_failure(
    check: Callable[[ReplayCase], Failure | None],
    *,
    max_examples: int,
    shrink_seconds: float | None,
    seed_value: int | None = None,
    shrink: bool = True,
    database=None,
    replay: bool = False,
    strategy,
) -> tuple[int, Failure | None]:
    """(cases tried, the smallest failure found) over generated cases; derandomized when no seed
    is given; cases come from `strategy` (a forward mode's `replay_cases`, say). `shrink_seconds` counts from the first failure; None leaves shrinking unbounded.
    Failures are saved to `database`; with `replay`, the failures stored there are tried first."""
    tried = [0]
    known_failing: set[ReplayCase] = set()
    last: list[Failure] = []
    deadline: list[float] = []

    @given(case=strategy)
    def attempt(case):
        if deadline and time.monotonic() > deadline[0] and case not in known_failing:
            return
        tried[0] += 1
        failure = check(case)
        if failure:
            known_failing.add(case)
            last[:] = [failure]
            if not deadline and shrink_seconds is not None:
                deadline.append(time.monotonic() + shrink_seconds)
            raise AssertionError(failure.message)

    run = attempt if seed_value is None else seed(seed_value)(attempt)
    # Applied after @seed, which turns the database off: these settings turn it back on.
    run = settings(
        max_examples=max_examples,
        derandomize=seed_value is None,
        database=database,
        deadline=None,
        print_blob=False,
        phases=[Phase.reuse] * replay + [Phase.generate] + [Phase.shrink] * shrink,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
    )(run)
    try:
        run()
    except AssertionError:
        return tried[0], last[0]
    return tried[0], None
