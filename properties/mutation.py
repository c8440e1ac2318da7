"""Mutation self-test: how many planted defects (properties/mutants/) the suite kills.

Each mutant is hunted with the suite's own examples, strategies and laws (every law is checked on
every case, in CONTRACT_LAWS order), in every mode its fill declares (properties.harness.MODES): the
pinned edge examples first, then generated cases; a kill is then shrunk by Hypothesis against the
law that broke, in the mode that broke it, within a time box (`properties.search`). A survivor means
the suite has a blind spot: strengthen the strategies or the laws, never the mutant.

A mutant whose fill says `shows_in` (a GPU family of checks: "memcheck", "compile_count",
"past_int32") has the shipped kernel's values on the cases a CPU can afford: on a GPU it is hunted by
that family (compute-sanitizer on tight buffers, the compile count over bs 1..4096,
`properties.compiles`, the tables past 2^31 cells of `properties.past_int32` in a process of its
own), and without one it is reported as not applicable, not hunted.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import torch

from properties.cases import ReplayCase
from properties.edges import pinned_examples
from properties.harness import HOST_SIZED, MODES, hyphenated, in_launch_form, load_variant, prepare_runtime
from properties.laws import CONTRACT_LAWS, first_broken_law, laws_of
from properties.search import find_failure
from properties.strategies import replay_cases
from reference.modes import DEFAULT_FORWARD_MODE


@dataclass
class Hunt:
    spec: str
    killed: bool
    law: str | None
    case: ReplayCase | None
    seconds: float
    message: str = ""
    launch: str | None = None  # the launch form that killed it, or what a GPU family checked
    skipped: str = ""  # why the mutant was not hunted on this tier

    @property
    def size(self) -> str:
        if self.case is None:
            return "-"
        c = self.case
        return f"bs={c.bs} tokens={c.total_tokens} max_seqlen_k={c.max_seqlen_k} page_size={c.page_size}"


def hunt(
    spec: str, *, max_examples: int = 30, shrink_seconds: float = 20.0, forward_mode: str = DEFAULT_FORWARD_MODE, profile: str | None = None
) -> Hunt:
    """Try to kill the implementation `spec` (MODULE:CALLABLE) of `forward_mode` with the suite.

    The pinned edge examples go first, in every mode, as they do in every test; a mutant they miss
    meets `max_examples` generated cases under every law, mode after mode. A kill is then shrunk,
    within `shrink_seconds`, by generating cases against the law that broke, in its mode.
    """
    device = prepare_runtime()
    variant = load_variant(spec, forward_mode=forward_mode, profile=profile)
    if profile is None and getattr(variant.fill, "profile", None):
        # A mutant whose defect only the full-width page rows see is hunted under that profile.
        variant = load_variant(spec, forward_mode=forward_mode, profile=variant.fill.profile)
    contract_laws = laws_of(CONTRACT_LAWS, forward_mode)
    examples = pinned_examples(forward_mode, gpu=device.type == "cuda").values()
    strategy = replay_cases(mode_name=forward_mode)
    shows_in = getattr(variant.fill, "shows_in", None)
    if shows_in:
        return _hunt_on_gpu(spec, variant, shows_in, device)
    start = time.monotonic()
    # The strict domain's rules are the stronger ones: any int32 slots, element 0 of both cu buffers
    # untouched. Mutants whose defect breaks only them say so (`fill.domain = "strict"`).
    modes = {mode: adapted for mode in MODES if (adapted := in_launch_form(variant, mode, "strict")) is not None}

    def check(mode: str, laws=contract_laws):
        fill, adapt = modes[mode]
        return lambda case: first_broken_law(fill, adapt(case), device, laws)

    # Law by law over every edge example in every mode: most defects break the differential somewhere
    # (a graph-resident one in its own mode), and are found before any case pays for every law.
    at_edges = (
        (mode, failure)
        for law in contract_laws
        for mode in modes
        for case in examples
        if (failure := check(mode, (law,))(case))
    )

    def generated(mode: str):
        return find_failure(check(mode), max_examples=max_examples, shrink_seconds=None, shrink=False, strategy=strategy)[1]

    mode, found = next(at_edges, (None, None))
    if found is None:
        mode, found = next(((mode, failure) for mode in modes if (failure := generated(mode))), (None, None))
    if found is not None and shrink_seconds > 0:
        law = next(law for law in contract_laws if law.__name__ == found.law)
        _, smaller = find_failure(check(mode, (law,)), max_examples=max_examples, shrink_seconds=shrink_seconds, strategy=strategy)
        if smaller is not None and _cells(smaller.case) < _cells(found.case):
            found = smaller
    seconds = time.monotonic() - start
    if found is None:
        return Hunt(spec, False, None, None, seconds)
    return Hunt(spec, True, found.law, found.case, seconds, found.message, mode)


def _hunt_on_gpu(spec: str, variant, shows_in: str, device) -> Hunt:
    """A mutant only a GPU family of checks can see: memcheck on tight buffers, or the compile count."""
    if device.type != "cuda":
        return Hunt(spec, False, None, None, 0.0, skipped=f"shows only in {hyphenated(shows_in)}: not applicable on this tier")
    start = time.monotonic()
    if shows_in == "past_int32":
        from properties.past_int32 import in_child

        code, said = in_child(spec, variant.convention, variant.forward_mode)
        if code not in (0, 1):
            return Hunt(spec, False, None, None, time.monotonic() - start, skipped=f"past 2^31 not run: {said}")
        return Hunt(spec, code == 1, "past-int32" if code == 1 else None, None, time.monotonic() - start, said, HOST_SIZED)
    if shows_in == "memcheck":
        from properties.memcheck import check_memory

        result = check_memory(spec, max_examples=20, forward_mode=variant.forward_mode)
        if result.errors is None:
            return Hunt(spec, False, None, None, time.monotonic() - start, skipped=f"memcheck not run: {result.reason}")
        return Hunt(spec, not result.passed, "memcheck" if not result.passed else None, None, time.monotonic() - start,
                    result.reason, "tight buffers")
    from properties.compiles import count_compiles

    counted = count_compiles(variant.fill, device, variant.forward_mode)
    if counted is None:
        return Hunt(spec, False, None, None, time.monotonic() - start, skipped="compile count not run on this Triton")
    return Hunt(spec, not counted.passed, "compile-count" if not counted.passed else None, None, time.monotonic() - start,
                counted.describe(), HOST_SIZED)


def _cells(case: ReplayCase) -> int:
    return case.total_tokens * case.max_seqlen_k + case.bs


def _hunt_args(args):
    spec, max_examples, shrink_seconds, forward_mode, profile = args
    return hunt(spec, max_examples=max_examples, shrink_seconds=shrink_seconds, forward_mode=forward_mode, profile=profile)


def hunt_all(
    specs: list[str], *, workers: int, max_examples: int, shrink_seconds: float, forward_mode: str = DEFAULT_FORWARD_MODE,
    profile: str | None = None,
) -> Iterator[Hunt]:
    """Hunt each spec, yielding the hunts in the order of `specs` as they end; on the CPU in
    `workers` processes, on a GPU in this one process (one GPU, one worker: two workers would share
    it by accident)."""
    jobs = [(spec, max_examples, shrink_seconds, forward_mode, profile) for spec in specs]
    if workers <= 1 or torch.cuda.is_available():
        yield from map(_hunt_args, jobs)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_hunt_args, jobs)


def table(hunts: list[Hunt], names: dict[str, str]) -> str:
    rows = [("mutant", "result", "killed by", "shrunk counterexample", "time to kill")]
    for h in hunts:
        rows.append(
            (
                names.get(h.spec, h.spec),
                "killed" if h.killed else "n/a" if h.skipped else "SURVIVED",
                f"{h.law} ({hyphenated(h.launch)})" if h.killed else h.skipped or "-",
                h.size,
                f"{h.seconds:.1f}s",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)
