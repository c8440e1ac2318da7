"""A differential campaign: Hypothesis drives the contract properties against one variant.

It is the suite's own strategies and laws, run outside pytest so that it can report what it covered
(edge classes, sizes), show progress, run for a time budget, and keep what it finds.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import torch

from properties.cases import ReplayCase
from properties.edge_classes import edge_classes, edge_classes_of
from properties.edges import EXTREMES, member_examples, pinned_examples
from properties.harness import DEFAULT_DOMAIN, HOST_SIZED, Variant, hyphenated, in_launch_form
from properties.failures import Failure
from properties.faults import first_fault
from properties.laws import CONTRACT_LAWS, first_broken_law, laws_of
from properties.search import find_failure
from properties.strategies import replay_cases
from reference.modes import DEFAULT_FORWARD_MODE

SHRINK_SECONDS = 30.0  # per failure found; a campaign reports what it found, shrunk as far as that allows


@dataclass
class Coverage:
    """What a campaign has checked so far."""

    examples: int = 0
    edge_hits: Counter = field(default_factory=Counter)
    page_sizes: Counter = field(default_factory=Counter)
    dtypes: Counter = field(default_factory=Counter)
    max_bs: int = 0
    max_total_tokens: int = 0
    max_seq_len: int = 0
    law_checks: int = 0
    forward_mode: str = DEFAULT_FORWARD_MODE

    def record(self, case: ReplayCase, laws: int) -> None:
        self.examples += 1
        self.law_checks += laws
        self.edge_hits.update(edge_classes(case))
        self.page_sizes[case.page_size] += 1
        self.dtypes.update({case.seq_lens_dtype, case.extend_seq_lens_dtype, case.req_pool_indices_dtype})
        self.max_bs = max(self.max_bs, case.bs)
        self.max_total_tokens = max(self.max_total_tokens, case.total_tokens)
        self.max_seq_len = max(self.max_seq_len, case.longest)

    def to_dict(self) -> dict:
        return {
            "forward_mode": self.forward_mode,
            "examples": self.examples,
            "law_checks": self.law_checks,
            "edge_hits": dict(self.edge_hits),
            "page_sizes": {str(k): v for k, v in self.page_sizes.items()},
            "dtypes": dict(self.dtypes),
            "max_bs": self.max_bs,
            "max_total_tokens": self.max_total_tokens,
            "max_seq_len": self.max_seq_len,
        }

    def absorb(self, other: dict) -> None:
        """Add another campaign's coverage (a to_dict() of a shard) to this one."""
        self.forward_mode = other.get("forward_mode", self.forward_mode)
        self.examples += other["examples"]
        self.law_checks += other["law_checks"]
        self.edge_hits.update(other["edge_hits"])
        self.page_sizes.update({int(k): v for k, v in other["page_sizes"].items()})
        self.dtypes.update(other["dtypes"])
        self.max_bs = max(self.max_bs, other["max_bs"])
        self.max_total_tokens = max(self.max_total_tokens, other["max_total_tokens"])
        self.max_seq_len = max(self.max_seq_len, other["max_seq_len"])

    def summary(self) -> str:
        lines = [
            f"forward mode: {self.forward_mode}",
            f"examples checked (shrinking included): {self.examples}   law checks: {self.law_checks}",
            f"largest: bs={self.max_bs}  total tokens={self.max_total_tokens}  seq_len={self.max_seq_len}",
            "page sizes: " + ", ".join(f"{p}: {n}" for p, n in sorted(self.page_sizes.items())),
            "input dtypes: " + ", ".join(f"{d}: {n}" for d, n in sorted(self.dtypes.items())),
            "edge classes:",
        ]
        for edge in edge_classes_of(self.forward_mode):
            hits = self.edge_hits[edge]
            # SGLang's extremes are pinned examples only, and pinned only where a GPU runs.
            missed = "   <- pinned only where a GPU runs" if edge in EXTREMES else "   <- not reached"
            lines.append(f"  {edge:<20} {hits:>6}{'' if hits else missed}")
        return "\n".join(lines)


class Progress:
    """A one-line progress bar on a terminal, a line every so often elsewhere."""

    def __init__(self, total: int | None, deadline: float | None, stream=sys.stderr):
        self.total, self.deadline, self.stream = total, deadline, stream
        self.start = time.monotonic()
        self.tty = stream.isatty()
        self.last = 0.0

    def update(self, done: int, failures: int) -> None:
        now = time.monotonic()
        if not self.tty and now - self.last < 10:
            return
        self.last = now
        elapsed = now - self.start
        if self.total:
            filled = int(30 * min(done, self.total) / self.total)
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {done}/{self.total}"
        else:
            left = max(0.0, (self.deadline or now) - now)
            bar = f"{done} examples, {left:.0f}s left"
        line = f"{bar}  {done / max(elapsed, 1e-9):.1f} ex/s  failures: {failures}"
        print(("\r" + line) if self.tty else line, end="" if self.tty else "\n", file=self.stream, flush=True)

    def close(self) -> None:
        if self.tty:
            print(file=self.stream)


def run_campaign(
    variant: Variant,
    device: torch.device,
    *,
    max_examples: int | None = 100,
    minutes: float | None = None,
    seed_value: int = 0,
    laws: tuple[Callable, ...] = CONTRACT_LAWS,
    database=None,
    on_failure: Callable[[Failure], None] = lambda failure: None,
    launch: str = HOST_SIZED,
    domain: str = DEFAULT_DOMAIN,
    shrink_seconds: float | None = SHRINK_SECONDS,
) -> tuple[Coverage, list[Failure]]:
    """Check `laws` on the edge examples, then on generated cases, until `max_examples` generated
    cases (passing, failing and shrink steps alike) or `minutes`.

    A failure is shrunk by Hypothesis for up to `shrink_seconds` (None: unbounded), and the
    campaign moves on to a new round with the next seed,
    so one run can report several distinct defects; each kind of failure (`Failure.fingerprint`) is
    returned and passed to `on_failure` once, on the first case that showed it (the edge examples
    come first, then shrunk generated cases).

    With a `database`, every failure found is saved there, and the first round replays what is
    stored first: Hypothesis stops at the first stored case that still fails. Only the first, as
    every later round would stop at that same case again.
    """
    coverage, failures = Coverage(forward_mode=variant.forward_mode), []
    laws = laws_of(laws, variant.forward_mode)
    deadline = time.monotonic() + 60 * minutes if minutes else None
    progress = Progress(None if deadline else max_examples, deadline)

    judged = in_launch_form(variant, launch, domain)
    if judged is None:
        raise ValueError(f"{variant.name} does not declare the {hyphenated(launch)} launch")
    fill, adapt = judged

    def check(case: ReplayCase) -> Failure | None:
        return first_broken_law(fill, adapt(case), device, laws, variant=variant, launch=launch)

    seen: set[tuple[str, ...]] = set()

    def found(failure: Failure) -> None:
        if failure.fingerprint() not in seen:
            seen.add(failure.fingerprint())
            failures.append(failure)
            on_failure(failure)

    pinned = {**pinned_examples(variant.forward_mode, gpu=device.type == "cuda"), **member_examples(variant.forward_mode)}
    for case in pinned.values():
        coverage.record(adapt(case), len(laws))
        failure = check(case)
        if failure:
            found(failure)

    # Every generated case counts against max_examples, failing ones and shrink steps too: a variant
    # that fails nearly everywhere would otherwise run round after round of shrinking.
    checked = [0]

    def counted(case: ReplayCase) -> Failure | None:
        if deadline and time.monotonic() >= deadline:
            return None
        checked[0] += 1
        failure = check(case)
        if failure is None:
            coverage.record(adapt(case), len(laws))
        progress.update(checked[0], len(failures))
        return failure

    round_index = 0
    while first_fault() is None:  # a sticky CUDA fault ends the campaign: no later case could run
        remaining = None if deadline else max_examples - checked[0]
        if (deadline and time.monotonic() >= deadline) or (remaining is not None and remaining <= 0):
            break
        _, failure = find_failure(
            counted,
            max_examples=min(remaining or 50, 50),
            shrink_seconds=shrink_seconds,
            seed_value=seed_value + round_index,
            database=database,
            replay=round_index == 0,
            strategy=replay_cases(variant.forward_mode),
        )
        if failure:
            coverage.record(failure.case, len(laws))
            found(failure)
        round_index += 1
    progress.close()
    return coverage, failures
