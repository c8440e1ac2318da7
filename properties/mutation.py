"""Mutation self-test: how many planted defects (properties/mutants/) the suite kills.

Each mutant is hunted with the suite's own examples, strategies and laws (every law is checked on
every case, in CONTRACT_LAWS order): the pinned edge examples first, then generated cases; a kill
is then shrunk by Hypothesis against the law that broke, within a time box (`properties.search`). A survivor means the suite has a blind spot: strengthen the strategies or
the laws, never the mutant.
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import torch

from properties.cases import DraftExtendCase
from properties.edges import EDGE_EXAMPLES
from properties.harness import load_variant, prepare_runtime
from properties.laws import CONTRACT_LAWS, first_broken_law
from properties.search import find_failure


@dataclass
class Hunt:
    spec: str
    killed: bool
    law: str | None
    case: DraftExtendCase | None
    seconds: float
    message: str = ""

    @property
    def size(self) -> str:
        if self.case is None:
            return "-"
        c = self.case
        return f"bs={c.bs} tokens={c.total_tokens} max_seqlen_k={c.max_seqlen_k} page_size={c.page_size}"


def hunt(spec: str, *, max_examples: int = 30, shrink_seconds: float = 20.0) -> Hunt:
    """Try to kill the implementation `spec` (MODULE:CALLABLE) with the suite.

    The pinned edge examples go first, as they do in every test; a kill there is then shrunk, within
    `shrink_seconds`, by generating cases against the law that broke. A mutant the edges miss meets
    `max_examples` generated cases under every law, and a kill there is shrunk likewise.
    """
    device = prepare_runtime()
    fill = load_variant(spec).fill
    start = time.monotonic()
    found = next(
        (failure for case in EDGE_EXAMPLES.values() if (failure := first_broken_law(fill, case, device, CONTRACT_LAWS))),
        None,
    )
    if found is None:
        _, found = find_failure(
            lambda case: first_broken_law(fill, case, device, CONTRACT_LAWS),
            max_examples=max_examples,
            shrink_seconds=None,
            shrink=False,
        )
    if found is not None and shrink_seconds > 0:
        law = next(law for law in CONTRACT_LAWS if law.__name__ == found.law)
        _, smaller = find_failure(
            lambda case: first_broken_law(fill, case, device, (law,)),
            max_examples=max_examples,
            shrink_seconds=shrink_seconds,
        )
        if smaller is not None and _cells(smaller.case) < _cells(found.case):
            found = smaller
    seconds = time.monotonic() - start
    if found is None:
        return Hunt(spec, False, None, None, seconds)
    return Hunt(spec, True, found.law, found.case, seconds, found.message)


def _cells(case: DraftExtendCase) -> int:
    return case.total_tokens * case.max_seqlen_k + case.bs


def _hunt_args(args):
    spec, max_examples, shrink_seconds = args
    return hunt(spec, max_examples=max_examples, shrink_seconds=shrink_seconds)


def hunt_all(specs: list[str], *, workers: int, max_examples: int, shrink_seconds: float) -> list[Hunt]:
    """Hunt each spec; on the CPU in `workers` processes, on a GPU in this one process (one GPU,
    one worker: two workers would share it by accident)."""
    jobs = [(spec, max_examples, shrink_seconds) for spec in specs]
    if workers <= 1 or torch.cuda.is_available():
        return [_hunt_args(job) for job in jobs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_hunt_args, jobs))


def table(hunts: list[Hunt], names: dict[str, str]) -> str:
    rows = [("mutant", "result", "killed by", "shrunk counterexample", "time to kill")]
    for h in hunts:
        rows.append(
            (
                names.get(h.spec, h.spec),
                "killed" if h.killed else "SURVIVED",
                h.law or "-",
                h.size,
                f"{h.seconds:.1f}s",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows)
