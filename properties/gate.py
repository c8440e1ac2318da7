"""The gate: every family of properties, run against one variant, as a scorecard of verdicts.

Each row is a family (`properties.gate_rows.ROWS`, one record each) with one verdict: pass, fail, n/a (the variant does not declare
that mode) or not run (this machine cannot show it: no GPU, no compute-sanitizer), with the shrunk
counterexample or a one-line reason a person can act on. The gate passes when every required family
passes; the others are still run and reported.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import torch

from properties.cases import ReplayCase
from properties.edges import member_examples, pinned_examples
from properties.harness import GRAPH_RESIDENT, HOST_SIZED, LAUNCH_FORMS, MODES, STATIC_WIDTH, Variant, hyphenated, in_launch_form, load_variant
from properties.gate_rows import FAMILIES, GRAPH_REPLAY, LAW_FAMILIES, ROW, RUNS_LAST, SANITIZERS, SEARCHING
from properties.failures import Failure, first_line
from properties.faults import fault_kind, fault_report, first_fault
from properties.laws import CONTRACT_LAWS, first_broken_law, laws_of
from properties.runtime_laws import (
    engine_replays_match_reference,
    graph_replays_match_reference,
    never_syncs_with_host,
    runs_on_callers_stream,
)
from properties.past_int32 import in_child
from properties.reproducer import to_json, write
from properties.row_process import RowLost, run_row
from properties.search import find_failure
from properties.strategies import engine_sessions, graph_sessions, replay_cases, whole_range_cases
from reference.engines import DEFAULT_PROFILE
from reference.modes import DEFAULT_FORWARD_MODE, DRAFT_EXTEND

PASS, FAIL, NOT_APPLICABLE, NOT_RUN = "pass", "fail", "n/a", "not run"

SESSIONS = 100  # graph sessions at most per replay row, whatever the budget
# The gate command's default bound on one row: far above what a correct row takes at the default
# effort (the slowest, memcheck, takes about a minute on a GPU), far below a CI job's limit.
ROW_TIMEOUT_S = 900.0
# The speed row fails a variant slower than this many times its baseline in any cell: loose enough
# that run-to-run noise of a graph-timed median never reaches it, tight enough for a regression.
MAX_SLOWDOWN = 2.0
# No line of a scorecard is longer: the whole of a large case goes to a reproducer, not inline.
MAX_LINE = 300


def clip_lines(text: str) -> str:
    """`text` with every line cut to MAX_LINE characters, saying how much was cut."""
    def clip(line: str) -> str:
        if len(line) <= MAX_LINE:
            return line
        note = f" ... ({len(line) - MAX_LINE + 40} more characters)"
        return line[: MAX_LINE - len(note)] + note
    return "\n".join(clip(line) for line in text.splitlines())


@dataclass
class Verdict:
    family: str
    status: str
    detail: str
    required: bool = False
    seconds: float = 0.0
    figures: list[dict] = field(default_factory=list)  # what the row measured (speed: the ratio table)

    @property
    def ok(self) -> bool:
        return self.status == PASS

    @property
    def holds(self) -> bool:
        """Whether a required row is met: it passes, or judges a launch form the variant does not declare."""
        return self.status in (PASS, NOT_APPLICABLE)


@dataclass
class Scorecard:
    variant: str
    convention: str
    domain: str
    device: str
    verdicts: list[Verdict] = field(default_factory=list)
    forward_mode: str = DEFAULT_FORWARD_MODE
    profile: str = DEFAULT_PROFILE

    @property
    def passed(self) -> bool:
        return all(v.holds for v in self.verdicts if v.required)

    def table(self) -> str:
        rows = [("property", "required", "result", "reason / counterexample")]
        for v in self.verdicts:
            rows.append((v.family, "yes" if v.required else "no", v.status.upper() if v.status == FAIL else v.status, v.detail.splitlines()[0] if v.detail else ""))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = [
            f"gate: {self.variant} ({self.forward_mode}, convention {self.convention}, domain {self.domain}, profile {self.profile}) on {self.device}",
            "",
        ]
        lines += [clip_lines("  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths)) + "  " + row[3]) for row in rows]
        for v in self.verdicts:
            if "\n" in v.detail and (v.status == FAIL or v.family == "speed"):
                lines += ["", f"--- {v.family} ---", clip_lines(v.detail)]
        required_failed = [v.family for v in self.verdicts if v.required and not v.holds]
        lines += ["", "GATE PASSED" if self.passed else f"GATE FAILED: required {', '.join(required_failed)} did not pass"]
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "passed": self.passed}, indent=1)


@dataclass
class Budget:
    max_examples: int
    deadline: float | None  # time.monotonic() past which searching stops
    shrink_seconds: float = 20.0
    edges: tuple[ReplayCase, ...] = ()  # checked before any generated case
    on_case: Callable[[ReplayCase], None] | None = None  # told of each case before it is called


def _search(fill, adapt, laws, device, budget: Budget, strategy, *, variant=None, launch: str = HOST_SIZED) -> Failure | None:
    """The first broken law over the edge examples, then generated cases (shrunk in a time box). A
    sticky CUDA fault is the row's failure, on the case that raised it: no case after it runs."""

    def check(case: ReplayCase) -> Failure | None:
        if budget.deadline and time.monotonic() > budget.deadline:
            return None
        if budget.on_case is not None:
            budget.on_case(case)
        return first_broken_law(fill, adapt(case), device, laws, variant=variant, launch=launch)

    at_edges = [failure for case in budget.edges if (failure := check(case))]
    _, generated = find_failure(check, max_examples=budget.max_examples, shrink_seconds=budget.shrink_seconds, strategy=strategy)
    found = at_edges + ([generated] if generated else [])
    faulted = [failure for failure in found if failure.fault is not None]
    if faulted:
        return faulted[0]
    return min(found, key=lambda failure: _size(failure.case)) if found else None


def _size(case: ReplayCase) -> int:
    return case.total_tokens * case.max_seqlen_k + case.bs


def _graph_sessions(fill, adapt, device, budget: Budget, sessions, law=graph_replays_match_reference) -> tuple[str, str] | None:
    """`law` (graph replay) over generated `sessions`: None when it holds, else (the reason, the
    session it broke on)."""
    from hypothesis import HealthCheck, given, settings

    broken: list[tuple[str, str]] = []

    # Sessions cost a capture each: a third of the cases a law family searches, at most SESSIONS.
    @settings(max_examples=min(max(2, budget.max_examples // 3), SESSIONS), derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(session=sessions)
    def replay(session):
        if broken or (budget.deadline and time.monotonic() > budget.deadline):
            return
        adapted = session.adapted(adapt)
        if budget.on_case is not None:
            budget.on_case(adapted.steps[0])
        try:
            law(fill, adapted, device)
        except Exception as error:
            # An error without words (a bare assert of the variant's) is named by its type.
            message = str(error).strip() or first_line(error)
            broken.append((message.splitlines()[0], f"{adapted.steps[0].summary()}, {len(adapted.steps)} steps\n{message}"))

    replay()
    return broken[0] if broken else None


class Gate:
    """`minutes`, when given, is shared evenly by the families that search generated cases; `edges`
    names the edge examples checked first (default: all of them)."""

    def __init__(self, variant: Variant, device: torch.device, *, domain: str, required: tuple[str, ...],
                 max_examples: int, minutes: float | None = None, edges: tuple[str, ...] | None = None,
                 reproducers: Path | None = None, max_slowdown: float = MAX_SLOWDOWN, baseline: str | None = None,
                 past_int32: bool = False):
        self.variant, self.device, self.domain, self.required = variant, device, domain, required
        self.reproducers = reproducers
        self.max_slowdown, self.baseline = max_slowdown, baseline
        # On a GPU the values row also runs the tables past 2^31 cells (properties.past_int32).
        self.past_int32 = past_int32
        self.figures: dict[str, list[dict]] = {}  # a row's measured figures, by family, for the JSON
        self.row_options = {
            "spec": variant.spec, "convention": variant.convention, "forward_mode": variant.forward_mode, "profile": variant.profile,
            "gate": dict(domain=domain, required=required, max_examples=max_examples, minutes=minutes, edges=edges,
                         reproducers=reproducers, max_slowdown=max_slowdown, baseline=baseline, past_int32=past_int32),
        }
        self.gpu = device.type == "cuda"
        self.examples = pinned_examples(variant.forward_mode, gpu=self.gpu)
        self.budget = Budget(max_examples if minutes is None else 1_000_000, None)
        self.budget.edges = tuple(self.examples[name] for name in edges) if edges is not None else tuple(self.examples.values())
        self.share = None if minutes is None else 60 * minutes / len(SEARCHING)

    def run(self, families: tuple[str, ...] = FAMILIES, on_verdict=None, row_timeout: float | None = None) -> Scorecard:
        """The scorecard of `families`; `on_verdict(verdict)` is called as each row is decided, so a
        run stopped by a time box has still said what it found. With `row_timeout`, each row runs in
        a child process of its own that has that many seconds (properties.row_process)."""
        card = Scorecard(
            self.variant.spec, self.variant.convention, self.domain, _device_name(self.device),
            forward_mode=self.variant.forward_mode, profile=self.variant.profile,
        )
        # Capture runs last among in-process rows: a failed capture can leave the CUDA context
        # unusable for what follows; memcheck runs in a process of its own.
        order = [f for f in FAMILIES if f in families]
        order.sort(key=lambda f: f in RUNS_LAST)
        by_family = {}
        lost = ""
        for family in order:
            start = time.monotonic()
            if self.share is not None:
                self.budget.deadline = start + self.share
            if row_timeout is not None:
                try:
                    status, detail, self.figures[family] = run_row(_row_in_child, (self.row_options, family), family, row_timeout)
                except RowLost as error:
                    status, detail = FAIL, str(error)
            elif lost and family not in SANITIZERS:
                status, detail = NOT_RUN, f"{lost}; run it alone: --only {family}"
            else:
                try:
                    status, detail = getattr(self, ROW[family].check)(family)
                except Exception as error:  # a variant that raises is a failing row, never a traceback
                    status, detail = FAIL, _raised(error)
                    if _context_lost(error):
                        # memcheck runs in a process of its own, so it alone can still run.
                        lost = f"the CUDA context was lost when {family} raised ({first_line(error.__cause__ or error)})"
            if not lost and (fault := first_fault()) is not None:
                lost = f"the CUDA context was lost to a {fault.kind} in {family}"
            if status == FAIL and "out of memory" in detail.split("\n", 1)[0]:
                # Not the variant's verdict: the GPU is shared (gates side by side, pytest's workers).
                status, detail = NOT_RUN, f"the GPU ran out of memory: {detail}; run it alone: --only {family}"
            if self.gpu and not lost:
                # Each row's cached blocks go back to the device: a gate beside others on one GPU
                # keeps only what its row in flight holds (the tables past 2^31 cells need 30 GiB).
                torch.cuda.empty_cache()
            by_family[family] = Verdict(
                family, status, detail, family in self.required, time.monotonic() - start, self.figures.get(family, [])
            )
            if on_verdict is not None:
                on_verdict(by_family[family])
        card.verdicts = [by_family[f] for f in FAMILIES if f in by_family]
        return card

    def _launch(self, launch: str):
        return in_launch_form(self.variant, launch, self.domain)

    def _counterexample(self, failure: Failure, mode: str, law: str | None = None) -> str:
        """A failure as a person reads it: the law and the case in one line each, where the whole case
        went (a JSON reproducer that `python -m properties replay` reads), then the law's report."""
        law = law or failure.law
        if failure.fault is not None:
            return fault_report(failure.fault, hyphenated(mode), self.reproducers)
        lines = [f"{law} ({hyphenated(mode)}) on {failure.case.summary()}"]
        if self.reproducers is not None:
            record = to_json(
                failure.case, variant=self.variant.spec, law=law, message=failure.message, device=self.device, mode=mode,
                convention=self.variant.convention,
            )
            lines.append(f"reproducer: {write(self.reproducers, record)}")
        return "\n".join([*lines, failure.message])

    def _law_search(self, family: str, laws) -> Failure | None:
        """`laws` of a law family's row over its edges (the values row's with every member example of
        each finite domain set, on which the member changes a cell) and generated cases."""
        fill, adapt = self._launch(HOST_SIZED)
        budget = self.budget
        if family == "values":
            budget = dataclasses.replace(budget, edges=budget.edges + tuple(member_examples(self.variant.forward_mode).values()))
        return _search(fill, adapt, laws, self.device, budget, self._cases(), variant=self.variant)

    def law(self, family: str, law_name: str) -> tuple[str, str]:
        """One law of a law family's row, alone (the pytest plugin's items)."""
        found = self._law_search(family, tuple(law for law in LAW_FAMILIES[family] if law.__name__ == law_name))
        if found:
            return FAIL, self._counterexample(found, HOST_SIZED)
        return PASS, f"edge examples and up to {self.budget.max_examples} generated cases"

    def law_family(self, family: str) -> tuple[str, str]:
        found = self._law_search(family, laws_of(LAW_FAMILIES[family], self.variant.forward_mode))
        if found:
            return FAIL, self._counterexample(found, HOST_SIZED)
        searched = f"edge examples and up to {self.budget.max_examples} generated cases"
        if family == "values" and self.past_int32:
            if not self.gpu:
                return PASS, f"{searched}; tables past 2^31 cells: not run, no CUDA device on this machine"
            # A wrapped offset faults, and the context that raised it would be lost to the other rows.
            code, said = in_child(self.variant.spec, self.variant.convention, self.variant.forward_mode)
            if code == 1:
                return FAIL, f"tables past 2^31 cells: {said} (python -m properties past-int32 --variant {self.variant.spec})"
            return PASS, f"{searched}; tables past 2^31 cells: {said if code == 0 else 'not run, ' + said}"
        return PASS, searched

    def _needs_gpu(self) -> tuple[str, str] | None:
        return None if self.gpu else (NOT_RUN, "no CUDA device on this machine")

    def _cases(self):
        return replay_cases(self.variant.forward_mode)

    def _sessions(self):
        """Graph sessions over the whole range the engine sends."""
        return graph_sessions(self.variant.forward_mode, whole_range=True)

    def _declared(self):
        """(mode, fill, adapt) of every mode the variant declares."""
        return [(mode, *judged) for mode in MODES if (judged := self._launch(mode)) is not None]

    def engine_replay(self, family: str) -> tuple[str, str]:
        for mode, fill, adapt in self._declared():
            broken = _graph_sessions(fill, adapt, self.device, self.budget, engine_sessions(self.variant.forward_mode), engine_replays_match_reference)
            if broken:
                return FAIL, f"{broken[0]} ({hyphenated(mode)})\n{broken[1]}"
        how = "captured once, replayed" if self.gpu else "called on the same tensors (no CUDA device to capture on)"
        return PASS, f"padded buckets {how} step after step with a changing number of live requests, in every declared mode"

    def no_sync(self, family: str) -> tuple[str, str]:
        if (skip := self._needs_gpu()):
            return skip
        for mode, fill, adapt in self._declared():
            found = _search(
                fill, adapt, (never_syncs_with_host,), self.device, self.budget, whole_range_cases(self.variant.forward_mode),
                variant=self.variant, launch=mode,
            )
            if found:
                return FAIL, f"{found.message.removeprefix('LawBroken: ')}\n{self._counterexample(found, mode)}"
        return PASS, (f"warm calls under torch.cuda.set_sync_debug_mode('error'): edge examples and up to "
                      f"{self.budget.max_examples} generated cases, bs 1..4096, contexts to 128k, every declared mode")

    def streams(self, family: str) -> tuple[str, str]:
        if (skip := self._needs_gpu()):
            return skip
        for mode, fill, adapt in self._declared():
            for name in ("padded_bucket", "page_size_64", "large_batch"):
                failure = first_broken_law(fill, adapt(self.examples[name]), self.device, (runs_on_callers_stream,))
                if failure:
                    return FAIL, f"{failure.message.removeprefix('LawBroken: ')} ({hyphenated(mode)}, edge example {name})"
        return PASS, "reads and writes in the caller's stream order behind a long device-side wait, and joins every stream it forks"

    def graph_capture(self, family: str) -> tuple[str, str]:
        if (skip := self._needs_gpu()):
            return skip
        fill, adapt = self._launch(HOST_SIZED)
        broken = _graph_sessions(fill, adapt, self.device, self.budget, self._sessions())
        return (FAIL, "\n".join(broken)) if broken else (PASS, "captured once, replayed with new values step after step")

    def _launch_row(self, mode: str, laws: tuple | None = None, replay: bool = True) -> tuple[str, str]:
        """Every contract law of the forward mode in launch form `mode` (or `laws`), then, where
        `replay`, its graph replay on a GPU."""
        judged = self._launch(mode)
        if judged is None and mode == STATIC_WIDTH and self.variant.forward_mode != DRAFT_EXTEND.name:
            return NOT_APPLICABLE, f"static width is draft-extend's: every {self.variant.forward_mode} request has the same tokens"
        if judged is None:
            flag = "supports_graph_resident" if mode == GRAPH_RESIDENT else "supports_static_extend_len"
            return NOT_APPLICABLE, f"not declared (fill.{flag})"
        fill, adapt = judged
        laws = laws_of(CONTRACT_LAWS if laws is None else laws, self.variant.forward_mode)
        if laws:
            found = _search(fill, adapt, laws, self.device, self.budget, self._cases(), variant=self.variant, launch=mode)
            if found:
                return FAIL, self._counterexample(found, mode)
        if not replay:
            return PASS, "contract laws hold"
        if not self.gpu:
            return (PASS, "contract laws hold; graph replay not run (no CUDA device)") if laws else (NOT_RUN, "no CUDA device on this machine")
        broken = _graph_sessions(fill, adapt, self.device, self.budget, self._sessions())
        return (FAIL, "\n".join(broken)) if broken else (PASS, "contract laws and graph replay hold" if laws else "graph replay holds")

    def graph_resident(self, family: str) -> tuple[str, str]:
        return self._launch_row(GRAPH_RESIDENT)

    def static_width(self, family: str) -> tuple[str, str]:
        return self._launch_row(STATIC_WIDTH)

    def launch_part(self, row: str, part: str) -> tuple[str, str]:
        """One part of a launch form's row alone (the pytest plugin's items, which xdist spreads over
        its workers): a contract law by name, or GRAPH_REPLAY."""
        mode = LAUNCH_FORMS[row]
        if part == GRAPH_REPLAY:
            return self._launch_row(mode, laws=())
        return self._launch_row(mode, laws=tuple(law for law in CONTRACT_LAWS if law.__name__ == part), replay=False)

    def sanitizer(self, family: str) -> tuple[str, str]:
        from properties.memcheck import EXAMPLES as MEMCHECK_EXAMPLES
        from properties.memcheck import check_memory

        examples = min(self.budget.max_examples, MEMCHECK_EXAMPLES)
        result = check_memory(
            self.variant.spec, self.variant.convention, max_examples=examples, domain=self.domain, tool=family,
            forward_mode=self.variant.forward_mode, profile=self.variant.profile,
        )
        if result.errors is None:
            return NOT_RUN, result.reason
        return (PASS if result.passed else FAIL), result.reason

    def compile_count(self, family: str) -> tuple[str, str]:
        from properties.compiles import count_compiles

        if not self.gpu:
            return NOT_RUN, "no CUDA device on this machine (the interpreter compiles nothing)"
        result = count_compiles(self.variant.fill, self.device, self.variant.forward_mode)
        if result is None:
            return NOT_RUN, "this Triton keeps no per-function kernel caches to count"
        return (PASS if result.passed else FAIL), result.describe()

    def speed(self, family: str) -> tuple[str, str]:
        from properties.timing import compare_speed, speed_lines

        if (skip := self._needs_gpu()):
            return skip
        baseline = None if self.baseline is None else load_variant(self.baseline, forward_mode=self.variant.forward_mode)
        rows = compare_speed(self.variant, self.device, self.domain, baseline)
        self.figures[family] = rows
        worst = max(rows, key=lambda r: r["ratio"])
        limit = f"at most {self.max_slowdown:g}x {worst['baseline']}"
        cells = f"{len(rows)} cells, bs 1..4096, 8k..1M columns, pages 1 and 64, the declared KPool sizes and launch forms"
        if worst["ratio"] > self.max_slowdown:
            head = f"slower: {worst['ratio']:.2f}x {worst['baseline']} at {worst['cell']} (limit {limit}; {cells})"
            return FAIL, "\n".join([head, *speed_lines(rows)])
        return PASS, "\n".join([f"within {limit} in every one of {cells} (worst {worst['ratio']:.2f}x, at {worst['cell']})", *speed_lines(rows)])


def _row_in_child(conn, progress: str, options: dict, family: str) -> None:
    """Row `family` of the gate that `options` describe (`Gate.row_options`), in a process of its own
    (properties.row_process): rebuilt from plain options, it writes each case's summary to
    `progress` before the call and sends back (status, detail, figures)."""
    from properties.harness import prepare_runtime

    device = prepare_runtime()
    variant = load_variant(options["spec"], options["convention"], options["forward_mode"], options["profile"])
    gate = Gate(variant, device, **options["gate"])
    gate.budget.on_case = lambda case: Path(progress).write_text(case.summary())
    verdict = gate.run((family,)).verdicts[0]
    conn.send((verdict.status, verdict.detail, verdict.figures))


def _raised(error: Exception) -> str:
    """`the variant raised AcceleratorError: CUDA error: device-side assert triggered (at batch size 64
    (int32))`: the error a row's harness wrapped (its cause) first, then where the harness was."""
    cause = error.__cause__ if error.__cause__ is not None else error
    where = f" ({error})" if cause is not error else ""
    return f"the variant raised {first_line(cause)}{where}"


def _context_lost(error: BaseException) -> bool:
    """Whether `error` (or its cause) leaves this process's CUDA context unusable: a device-side
    assert or an illegal access poisons every later call."""
    return fault_kind(error) is not None


def _device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu (Triton interpreter)"
