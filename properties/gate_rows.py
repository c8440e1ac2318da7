"""The gate's rows, one record each: what decides a row, whether it searches generated cases, whether
it runs after the others, when it is required by default, and what it checks, where. Everything else
about the rows is derived from these records: the family names, the law families, the default
required rows and every help text that states them, and the docs' table of rows
(docs/gate.md, which tests/test_docs.py holds to `rows_table()`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from properties.laws import (
    ORACLE_FREE_LAWS,
    differential,
    inputs_untouched,
    memory_outside_views_untouched,
    state_across_calls,
)

NEVER, ON_A_GPU, ALWAYS = "never", "on a GPU", "always"


@dataclass(frozen=True)
class GateRow:
    name: str
    check: str  # the Gate method that decides the row
    where: str  # where it can run, as the docs say it
    summary: str  # what it checks, as the docs say it
    laws: tuple[Callable, ...] = ()  # a law family's laws, searched over generated cases
    required: str = NEVER  # required by default: never, on a GPU, or always
    searches: bool = False  # shares the gate's --minutes with the other searching rows
    runs_last: bool = False  # captures or forks streams: a failure there can leave the CUDA context unusable


# What racecheck, synccheck and initcheck check: one line of the docs' table for the three.
MORE_SANITIZERS = (
    "the same calls under those tools (20 generated cases per mode): shared-memory hazards, barriers misused, "
    "reads of device memory nothing wrote (`tests/planted/reads_unwritten.py` fails initcheck)"
)

ROWS: tuple[GateRow, ...] = (
    GateRow(name='values', check='law_family', laws=(differential,), required=ALWAYS, searches=True, where='anywhere; past 2^31 on a GPU',
        summary="`differential`: every cell of every buffer equals the reference's, padding included; on a GPU the gate command also runs the tables past 2^31 cells (`properties.past_int32`: a gather from pool rows past the wrap, 2,200 token rows of 1,000,003 columns), in a process of its own, or says why not (too little free memory)",
    ),
    GateRow(name='laws', check='law_family', laws=ORACLE_FREE_LAWS, required=ALWAYS, searches=True, where='anywhere',
        summary="the oracle-free laws: padding untouched, kv lengths, target-verify's 2-D schedule lengths, prefix sums, lengths count up, no length below 1 (not decode's), clipping, page rows, permutation, old contents ignored, repeated calls agree",
    ),
    GateRow(name='inputs', check='law_family', laws=(inputs_untouched,), required=ALWAYS, searches=True, where='anywhere',
        summary='every input keeps its values, dtype, shape, strides and storage offset',
    ),
    GateRow(name='outside-view', check='law_family', laws=(memory_outside_views_untouched,), required=ALWAYS, searches=True, where='anywhere',
        summary="no cell of a buffer's or an input's storage outside its view changes (guard cells before and after, row padding)",
    ),
    GateRow(name='state', check='law_family', laws=(state_across_calls,), required=ALWAYS, searches=True, where='anywhere',
        summary='called again on the same tensors after new values are written into them (new totals, rows, contents, a smaller then a larger max), each call equals the reference',
    ),
    GateRow(name='engine-replay', check='engine_replay', required=ALWAYS, searches=True, where='anywhere; captured on a GPU',
        summary="SGLang's runner as a property (`engine_sessions`): a bucket captured on the fill values (every request padding: seq_len 1 or 0, pool row 0, the draft width), then replays with a changing number of live requests (none, all, any) and the rest padded in place; every replay equals the reference, in every declared mode. Without a GPU the steps are calls on the same tensors, and so they are for a convention that passes host values changing from step to step (SGLang\'s draft-extend kernels take the token total), which SGLang\'s runner calls before each replay, outside the graph",
    ),
    GateRow(name='no-sync', check='no_sync', required=ON_A_GPU, searches=True, where='GPU',
        summary='warm calls run clean under `torch.cuda.set_sync_debug_mode("error")`, searched with Hypothesis over `whole_range_cases` (bs 1..4096, contexts to 128k, both index dtypes, padded buckets) in every declared mode; a variant that syncs only somewhere fails with the smallest such case',
    ),
    GateRow(name='streams', check='streams', required=ON_A_GPU, runs_last=True, where='GPU',
        summary='`runs_on_callers_stream`: inputs written on a non-default caller stream behind a 0.1 s device-side wait are what the call reads, and a read enqueued on that stream right after it (no synchronize) sees what the variant writes when nothing else is in flight; a capture on that stream finds no stream it never joins. Deterministic: the wait catches a variant that never waits for the caller, the capture one that forks and never joins back',
    ),
    GateRow(name='graph-capture', check='graph_capture', runs_last=True, where='GPU',
        summary="captured once, replayed with new values written into the captured inputs; every replay equals the reference; sessions reach bs 4096 and 128k contexts. A capture that fails is explained from the error it raised, which the reason quotes: a stream the capture never joined, a host sync or pageable copy, an operation capture forbids, or the variant's own exception (`properties.failures.capture_failure`)",
    ),
    GateRow(name='graph-resident', check='graph_resident', required=ALWAYS, searches=True, runs_last=True, where='laws anywhere, replay on a GPU',
        summary='where declared (`fill.supports_graph_resident`): every contract law with `max_seqlen_k=None`, and its graph replay',
    ),
    GateRow(name='static-width', check='static_width', required=ALWAYS, searches=True, runs_last=True, where='laws anywhere, replay on a GPU',
        summary="draft-extend's, where declared (`fill.supports_static_extend_len`): every contract law on equal extend lengths (1..8) with `static_extend_len=True`, and its graph replay at one width; n/a for decode and target-verify, whose requests always have equal tokens",
    ),
    GateRow(name='memcheck', check='sanitizer', where='GPU with compute-sanitizer',
        summary='`compute-sanitizer --tool memcheck` over the edge examples and generated cases on tight buffers, `PYTORCH_NO_CUDA_MEMORY_CACHING=1`',
    ),
    *(
        GateRow(name=tool, check="sanitizer", where="GPU with compute-sanitizer", summary=MORE_SANITIZERS)
        for tool in ("racecheck", "synccheck", "initcheck")
    ),
    GateRow(name='compile-count', check='compile_count', where='GPU',
        summary='Triton compilations over bs 1..64 and both sides of every power of two to 4096, `max_seqlen_k` 1..163,840 and token totals 0..512 (target-verify: next_n 1..16), in int32 and int64: at most 4 per dtype combination',
    ),
    GateRow(name='speed', check='speed', where='GPU',
        summary='GPU time over the declared range (`properties.timing.SPEED_CELLS`: bs 1 to 4,096 at 8k, 8k to 1M columns, pages 1 and 64, each declared KPool size and launch form; at most 19 cells) against a baseline (`--baseline SPEC`, default the shipped kernel), side by side in one run, and the eager path in the three small cells; fails where the variant takes over `--max-slowdown R` (default 2) times the baseline in any cell. The ratio table is in the report and, as `figures`, in the JSON',
    ),
)

FAMILIES = tuple(row.name for row in ROWS)
LAW_FAMILIES: dict[str, tuple[Callable, ...]] = {row.name: row.laws for row in ROWS if row.laws}
# The rows of a launch form: every contract law in that form, then its graph replay. The plugin makes
# each law, and the replay (GRAPH_REPLAY), an item of its own.
LAUNCH_ROWS = ("graph-resident", "static-width")
GRAPH_REPLAY = "graph-replay"
SANITIZERS = tuple(row.name for row in ROWS if row.check == "sanitizer")
SEARCHING = tuple(row.name for row in ROWS if row.searches)
RUNS_LAST = frozenset(row.name for row in ROWS if row.runs_last)
ROW = {row.name: row for row in ROWS}


def family_of_law(name: str) -> str:
    return next(family for family, laws in LAW_FAMILIES.items() if any(law.__name__ == name for law in laws))


def default_required(gpu: bool) -> tuple[str, ...]:
    """What a gate requires unless told otherwise (each row's `required`): values, the oracle-free
    laws, inputs, memory outside the views, state across calls, the engine's padded replays, every
    launch form the variant declares (graph-resident, static-width: n/a where it declares none, which
    a required row may be), and on a GPU no host sync and the caller's stream."""
    return tuple(row.name for row in ROWS if row.required == ALWAYS or (gpu and row.required == ON_A_GPU))


def required_help() -> str:
    """The default required rows, as help texts and docs say them."""
    cpu, gpu = default_required(False), default_required(True)
    return f"{', '.join(cpu)}, and on a GPU {', '.join(f for f in gpu if f not in cpu)}"


def rows_table() -> str:
    """The rows as docs/gate.md's table: rows that check the same thing in the same place share a line."""
    lines = ["| row | what it checks | where it runs |", "| --- | --- | --- |"]
    groups: list[list[GateRow]] = []
    for row in ROWS:
        if groups and (groups[-1][0].summary, groups[-1][0].where) == (row.summary, row.where):
            groups[-1].append(row)
        else:
            groups.append([row])
    for group in groups:
        names = ", ".join(f"`{row.name}`" for row in group)
        lines.append(f"| {names} | {group[0].summary} | {group[0].where} |")
    return "\n".join(lines)
