"""The verdict table of real code: every SGLang kernel the suite can reach, gated in every forward
mode it has, with the verdict each row must give and why.

One record per kernel, mode and profile. The GPU tier gates each one whose code is in the peers'
cache and holds it to its record (tests/gpu/test_real_code.py); docs/real-code.md's table is
`verdict_table()` (tests/test_docs.py holds the two together). The kernels are fetched at run time
and never committed (properties.peers): the release by `python -m properties peers fetch
sglang==0.5.23`, the snapshots read from repositories by `python -m properties peers add NAME FILE`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from properties.peers import KERNELS, is_peer_spec, peer_kernel, snapshot_path
from properties.host import BadVariant
from reference.modes import FORWARD_MODES

# The rows every record is judged on: the required ones, and static width where declared.
JUDGED_ROWS = ("values", "laws", "inputs", "outside-view", "state", "engine-replay", "no-sync", "streams", "static-width")

RELEASE = "sglang==0.5.23"
INT32_OFFSETS = "past 2^31"  # what the values row says of a wrapped offset (properties.past_int32)
UNCLAMPED = (
    "graph-bucket padding requests get negative causal lengths (sgl-project/sglang#30378, fixed by clamping to 0)"
)


@dataclass(frozen=True)
class RealCode:
    """A kernel of SGLang's, in one forward mode, under one engine profile: where it comes from, how
    it is called, and which judged rows fail (row -> what the row's reason must say, and why);
    every other judged row passes, or is n/a where the kernel declares no such launch form."""

    kernel: str  # as the table names it
    source: str  # a release's short spec (sglang==VERSION:[kpool:]MODE), or snapshot:NAME:FILE:CALLABLE
    forward_mode: str
    convention: str
    fails: dict[str, tuple[str, str]] = field(default_factory=dict)
    profile: str = "sglang-dsa"

    @property
    def spec(self) -> str:
        if is_peer_spec(self.source):
            return self.source
        _, name, file, callable_name = self.source.split(":")
        return f"{snapshot_path(name, file)}:{callable_name}"

    def missing(self) -> str | None:
        """Why this kernel cannot be gated here (its code is not in the cache), or None."""
        if is_peer_spec(self.source):
            try:
                peer_kernel(self.source)
            except BadVariant as error:
                return str(error)
            return None
        _, name, file, _ = self.source.split(":")
        path = snapshot_path(name, file)
        return None if path.is_file() else f"{path} is missing: python -m properties peers add {name} path/to/{file}"


def _release(kernel_set: str) -> list[RealCode]:
    name = "SGLang 0.5.23, plain" if kernel_set == "plain" else "SGLang 0.5.23, KPool (every declared index_kpool)"
    prefix = f"{RELEASE}:" if kernel_set == "plain" else f"{RELEASE}:kpool:"
    return [RealCode(name, prefix + mode, mode, f"sglang-fused-{mode}") for mode in KERNELS[kernel_set]]


def _snapshot(kernel: str, name: str, file: str, fails_by_mode: dict[str, dict[str, tuple[str, str]]]) -> list[RealCode]:
    return [
        RealCode(kernel, f"snapshot:{name}:{file}:{KERNELS['plain'][mode][1]}", mode, f"sglang-fused-{mode}", fails_by_mode.get(mode, {}))
        for mode in FORWARD_MODES
    ]


_WRAP = {"values": (INT32_OFFSETS, "page-table row offsets formed in int32 wrap past 2^31 cells (fixed in 0.5.23)")}
_JULY_DRAFT = {row: ("", UNCLAMPED) for row in ("values", "laws", "state", "engine-replay", "static-width")}
_SEED_SYNC = {"no-sync": ("synchronizes with the host", "its launcher reads the token total with .item()")}
_SEED_PADDING = {row: ("", UNCLAMPED) for row in ("values", "laws", "state", "engine-replay")}
ROW_STRIDE = (
    "its page-table copy writes page_table_1 as if its rows were contiguous: a table whose rows are padded "
    "gets cells past each row's width (the class of vllm-project/vllm#51318)"
)
_SEED_FUSED = {
    **{row: ("", f"{ROW_STRIDE}; {UNCLAMPED}") for row in ("values", "laws", "state", "engine-replay")},
    "outside-view": ("memory_outside_views_untouched", ROW_STRIDE),
}

REAL_CODE: tuple[RealCode, ...] = (
    *_release("plain"),
    *_release("kpool"),
    *_snapshot("SGLang main at b4ff2431", "b4ff2431", "dsa_metadata.py", {mode: _WRAP for mode in FORWARD_MODES}),
    *_snapshot("SGLang, July 2026", "july", "dsa_metadata.py", {
        # Its draft-extend values row stops at the first counterexample, a padded bucket (found on
        # small cases): the tables past 2^31 cells, which come after, are never reached.
        "decode": _WRAP, "target-verify": _WRAP, "draft-extend": _JULY_DRAFT,
    }),
    # The seed's kernels write every column below max_seqlen_k: written for the full-width profile,
    # and judged under it as well as under sglang-dsa.
    *(RealCode("the seed's kernel, option 1", "snapshot:seed:triton_metadata_kernel.py:fill_draft_extend_metadata_fused_simple",
               "draft-extend", "seed-simple", {**_SEED_PADDING, **_SEED_SYNC}, profile) for profile in ("sglang-dsa", "full-width")),
    *(RealCode("the seed's kernel, full fusion", "snapshot:seed:triton_metadata_kernel.py:fill_draft_extend_metadata_fused",
               "draft-extend", "seed-fused", {**_SEED_FUSED, **_SEED_SYNC}, profile) for profile in ("sglang-dsa", "full-width")),
)


def verdict_table() -> str:
    """The records as docs/real-code.md's table."""
    lines = [
        "| kernel | forward mode | convention | profile | fails | why |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for record in REAL_CODE:
        rows = ", ".join(f"`{row}`" for row in record.fails) or "nothing: every judged row passes"
        # A row's reason may join several causes; each cause is said once.
        why = "; ".join(dict.fromkeys(cause for _, reason in record.fails.values() for cause in reason.split("; ")))
        lines.append(f"| {record.kernel} | {record.forward_mode} | `{record.convention}` | {record.profile} | {rows} | {why} |")
    return "\n".join(lines)


@dataclass
class Judged:
    """A record gated here: each judged row's status and first line, and where they differ from the
    record (empty when the kernel gives exactly the verdicts the record states)."""

    record: RealCode
    statuses: dict[str, tuple[str, str]]
    differences: list[str]
    device: str = ""
    seconds: float = 0.0


def judge(record: RealCode, max_examples: int) -> Judged:
    """Gate `record`'s kernel on its judged rows, in this process, and hold it to the record."""
    from properties.gate import FAIL, NOT_APPLICABLE, PASS, Gate
    from properties.harness import load_variant, prepare_runtime

    start = time.perf_counter()
    device = prepare_runtime()
    variant = load_variant(record.spec, record.convention, record.forward_mode, record.profile)
    card = Gate(variant, device, domain="sglang", required=JUDGED_ROWS, max_examples=max_examples, past_int32=True).run(JUDGED_ROWS)
    statuses = {v.family: (v.status, v.detail.splitlines()[0] if v.detail else "") for v in card.verdicts}
    differences = []
    for row, (status, said) in statuses.items():
        if row in record.fails:
            words = record.fails[row][0]
            detail = "\n".join(v.detail for v in card.verdicts if v.family == row)
            if status != FAIL and "not run" in detail:
                # The case that shows the bug did not run (too little free GPU memory): no verdict.
                differences.append(f"{row}: not judged, the case that shows it did not run: {said}")
            elif status != FAIL or words not in detail:
                differences.append(f"{row}: expected to fail ({record.fails[row][1]}), got {status}: {said}")
        elif status not in (PASS, NOT_APPLICABLE):
            differences.append(f"{row}: expected to pass, got {status}: {said}")
    return Judged(record, statuses, differences, card.device, time.perf_counter() - start)


def judge_by_index(index: int, max_examples: int) -> Judged:
    """`judge` of REAL_CODE[index]: what a spawned process is given, a plain int and not a record."""
    return judge(REAL_CODE[index], max_examples)


def judge_all(max_examples: int, workers: int, on_judged=None, match: str = "") -> tuple[list[Judged], list[tuple[RealCode, str]]]:
    """Every record whose code is in the cache, each in a fresh process (a kernel's sticky fault
    stays its own), `workers` at a time, handed to `on_judged` as each finishes (a run cut off by
    its runner's clock still shows what it judged); only those whose `kernel [mode]` holds `match`
    where it is given. (judged in table order, the records not run with why)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    chosen = [i for i, record in enumerate(REAL_CODE) if match.lower() in f"{record.kernel} [{record.forward_mode}]".lower()]
    whys = {i: REAL_CODE[i].missing() for i in chosen}  # each loads the kernel's file: once a record
    missing = [(REAL_CODE[i], why) for i, why in whys.items() if why]
    runnable = [i for i, why in whys.items() if not why]
    judged: dict[int, Judged] = {}
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), max_tasks_per_child=1) as pool:
        futures = {pool.submit(judge_by_index, i, max_examples): i for i in runnable}
        for future in as_completed(futures):
            judged[futures[future]] = future.result()
            if on_judged is not None:
                on_judged(judged[futures[future]])
    return [judged[i] for i in sorted(judged)], missing
