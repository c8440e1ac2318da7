"""The command line: its options, the sweep they ask for, and the run that writes the results."""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import platform
import sys
import time
from pathlib import Path
from typing import Callable

import torch
import triton

import kernel
from benchmarks.replay_metadata.cases import (
    FULL_SWEEP,
    LENGTHS,
    MAX_EXTEND,
    MAX_INPUT_SETS,
    MODE_EXTENDS,
    QUICK_EXTENDS,
    QUICK_SWEEP,
    SERVING_MIX_LEAST,
    Sweep,
    make_case,
)
from benchmarks.replay_metadata.measure import (
    BANDWIDTH_PAGE_SIZES,
    CAPACITY_BATCH_SIZES,
    CAPACITY_CONTEXT,
    CAPACITY_PAGE_SIZES,
    CAPACITY_WIDE,
    measure_bandwidth,
    measure_capacity,
    measure_case,
)
from benchmarks.replay_metadata.peers import AGAINST_LIMIT_MS, against_spec
from benchmarks.replay_metadata.tables import format_bandwidth, format_capacity, format_table, plot
from benchmarks.replay_metadata.timing import (
    GRAPH_MAX_CALLS,
    GRAPH_MIN_CALLS,
    GRAPH_TARGET_MS,
    HOST_BLOCKS,
    HOST_BUDGET_S,
    HOST_CALLS_PER_BLOCK,
    HOST_ROUNDS,
    REPLAYS_MAX,
    REPLAYS_MIN,
    WARMUP_CALLS,
)
from properties.harness import BadVariant, Variant, load_variant
from reference.engines import DEFAULT_PROFILE, ENGINE_PROFILES, KPOOL_PAGE_SIZE, kpool_supported
from reference.modes import DEFAULT_FORWARD_MODE, FORWARD_MODES


def int_list(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from exc
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def extend_list(text: str) -> tuple[str, ...]:
    values = tuple(x.strip() for x in text.split(",") if x.strip())
    known = {value for extends in MODE_EXTENDS.values() for value in extends}
    if not values or not set(values) <= known:
        raise argparse.ArgumentTypeError(f"expected a comma-separated subset of {','.join(sorted(known))}, got {text!r}")
    return values


def lengths_list(text: str) -> tuple[str, ...]:
    values = tuple(x.strip() for x in text.split(",") if x.strip())
    if not values or not set(values) <= set(LENGTHS):
        raise argparse.ArgumentTypeError(f"expected a comma-separated subset of {','.join(LENGTHS)}, got {text!r}")
    return values



def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.replay_metadata",
        description="Benchmark one forward mode's replay-metadata fill on one GPU (method: benchmarks/README.md). "
        "Without options, the full sweep; every option given replaces that part of it.",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("benchmark-out"), help="output folder (default ./benchmark-out)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smaller sweep: bs 1, 32, 512, 4096, ragged extend lengths only"
    )
    parser.add_argument("--batch-sizes", type=int_list, help="comma-separated batch sizes")
    parser.add_argument("--contexts", type=int_list, help="comma-separated context lengths (max_seqlen_k)")
    parser.add_argument("--page-sizes", type=int_list, help="comma-separated page sizes (powers of two)")
    parser.add_argument(
        "--forward-mode", choices=FORWARD_MODES, default=DEFAULT_FORWARD_MODE,
        help="the forward mode whose fill is timed (default draft-extend)",
    )
    parser.add_argument(
        "--extend", type=extend_list,
        help="tokens per request: draft-extend's ragged (1..4), equal (all 4), or both; target-verify's next_n=1..4; decode's one",
    )
    parser.add_argument("--topk", type=int, help=f"nsa_index_topk (default {FULL_SWEEP.topk})")
    parser.add_argument(
        "--index-kpool", type=int_list, metavar="K,...",
        help="KPool sizes of the sparse lengths, as SGLang's backend pools them by default (default 1: none); "
        "each past 1 is timed at page size 64 alone, and only against variants that take index_kpool",
    )
    parser.add_argument(
        "--padded", action="store_true",
        help="each batch a captured bucket whose last quarter pads it (seq_len 1, pool row 0), as SGLang's graph runners pad a replay",
    )
    parser.add_argument(
        "--lengths", type=lengths_list,
        help="how kv lengths spread below the context: half (uniform over its upper half), serving-mix "
        f"(log-uniform from {SERVING_MIX_LEAST}), equal; comma-separated (default half,serving-mix)",
    )
    parser.add_argument(
        "--profile", choices=ENGINE_PROFILES, default=DEFAULT_PROFILE,
        help="the engine profile the shipped kernel follows, and whose bytes the floor copies (default sglang-dsa)",
    )
    parser.add_argument(
        "--no-page-table-1", action="store_true",
        help="give no page_table_1: the real page table alone is written, as SGLang's fused decode graphs ask (page sizes > 1)",
    )
    parser.add_argument(
        "--against",
        metavar="[LABEL=]SPEC[@CONVENTION]",
        action="append",
        default=[],
        help="also time this implementation (MODULE:CALLABLE or path/to/file.py:CALLABLE), in a column named "
        "LABEL, called by CONVENTION (default --convention's); may be given several times",
    )
    parser.add_argument(
        "--convention", default="contract", help="how --against is called where it names no convention (properties/conventions.py; default contract)"
    )
    parser.add_argument(
        "--resume", action="store_true",
        help="keep the rows of an earlier run of this very sweep in --out (one a time limit cut short) and time only the cases it lacks",
    )
    parser.add_argument(
        "--capacity",
        action="store_true",
        help=f"also time the graph-resident mode in {CAPACITY_WIDE}-column buffers against {CAPACITY_CONTEXT}",
    )
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.contexts and min(args.contexts) < 2 * MAX_EXTEND:
        parser.error(f"contexts must be >= {2 * MAX_EXTEND}, so that every seq_len covers its extend length")
    if args.page_sizes and any(p & (p - 1) for p in args.page_sizes):
        parser.error("page sizes must be powers of two")
    if args.topk is not None and args.topk < 1:
        parser.error("--topk must be >= 1")
    if args.no_page_table_1 and args.page_sizes and 1 in args.page_sizes:
        parser.error("--no-page-table-1 needs page sizes > 1: at page size 1 page_table_1 is the real page table")
    topk = args.topk or FULL_SWEEP.topk
    if args.index_kpool and not all(kpool_supported(k, KPOOL_PAGE_SIZE, topk) for k in args.index_kpool):
        parser.error(f"--index-kpool: each KPool size must be one SGLang pools by, dividing the page size {KPOOL_PAGE_SIZE} and the top-k {topk}")
    if args.index_kpool and any(k > 1 for k in args.index_kpool) and args.page_sizes and KPOOL_PAGE_SIZE not in args.page_sizes:
        parser.error(f"--index-kpool past 1 pools pages of {KPOOL_PAGE_SIZE}: add {KPOOL_PAGE_SIZE} to --page-sizes")
    if args.convention != "contract" and not args.against:
        parser.error("--convention applies to --against")
    if args.extend and not set(args.extend) <= set(MODE_EXTENDS[args.forward_mode]):
        parser.error(f"--extend for {args.forward_mode}: a subset of {','.join(MODE_EXTENDS[args.forward_mode])}")
    return args


def resolve_sweep(args: argparse.Namespace) -> Sweep:
    """The mode's defaults, with every option given on the command line taking precedence."""
    given = {
        "page_sizes": args.page_sizes,
        "contexts": args.contexts,
        "batch_sizes": args.batch_sizes,
        "extends": args.extend,
        "topk": args.topk,
        "padded": args.padded or None,
        "lengths": args.lengths,
        "profile": args.profile if args.profile != DEFAULT_PROFILE else None,
        "page_table_1": False if args.no_page_table_1 else None,
        "index_kpools": args.index_kpool,
    }
    base = QUICK_SWEEP if args.quick else FULL_SWEEP
    mode = args.forward_mode
    base = dataclasses.replace(base, forward_mode=mode, extends=(QUICK_EXTENDS if args.quick else MODE_EXTENDS)[mode])
    sweep = dataclasses.replace(base, **{k: v for k, v in given.items() if v is not None})
    if not sweep.page_table_1:
        # Page size 1 has no real table apart from page_table_1.
        sweep = dataclasses.replace(sweep, page_sizes=tuple(p for p in sweep.page_sizes if p > 1))
    return sweep


def _kpooled(sweep: Sweep) -> list[tuple[int, int]]:
    """(page size, KPool size) pairs the sweep times: KPool sizes past 1 only where SGLang pools."""
    return [(p, k) for p in sweep.page_sizes for k in sweep.index_kpools if kpool_supported(k, p, sweep.topk)]


def sweep_cases(sweep: Sweep) -> int:
    """How many cases (tables rows) the sweep times."""
    return len(_kpooled(sweep)) * len(sweep.contexts) * len(sweep.lengths) * len(sweep.extends) * len(sweep.batch_sizes)


# What names a case in its row, in the sweep's order.
CASE_FIELDS = ("page_size", "index_kpool", "context", "lengths", "extend", "bs")


def resumed_rows(path: Path, report: dict) -> list[dict]:
    """The rows of the earlier run written to `path`, where it timed this very sweep against the
    same variants; none otherwise (said on stderr)."""
    if not path.exists():
        return []
    try:
        earlier = json.loads(path.read_text())
    except ValueError:
        earlier = None
    mine = json.loads(json.dumps({"sweep": report["sweep"], "against": report["against"]}))
    if not isinstance(earlier, dict) or {"sweep": earlier.get("sweep"), "against": earlier.get("against")} != mine:
        print(f"--resume: {path} holds another sweep or other --against variants; timing every case", file=sys.stderr)
        return []
    return list(earlier.get("results") or [])


def run_sweep(
    sweep: Sweep, against: dict[str, Variant], device: torch.device, on_row: Callable[[list[dict]], None] = lambda rows: None,
    done: list[dict] = (),
) -> list[dict]:
    """Every case of the sweep, timed; `on_row(rows)` after each, with the rows so far. `done`: the
    rows of an earlier run of the same sweep (--resume), kept while they name the cases in order."""
    rows, began = [], time.perf_counter()
    for (page_size, index_kpool), context, lengths, extend in itertools.product(
        _kpooled(sweep), sweep.contexts, sweep.lengths, sweep.extends
    ):
        # An --against variant that takes no index_kpool cannot pool: it would time other work.
        skipped = {label: "takes no index_kpool" for label, v in against.items()
                   if index_kpool > 1 and not getattr(v.fill, "supports_index_kpool", False)}
        for bs in sorted(sweep.batch_sizes):
            names = (page_size, index_kpool, context, lengths, extend, bs)
            progress = f"[{time.perf_counter() - began:6.1f}s] " + " ".join(f"{k}={v}" for k, v in zip(CASE_FIELDS, names))
            kept = done[len(rows)] if len(rows) < len(done) else None
            if kept is not None and tuple(kept.get(k) for k in CASE_FIELDS) == names:
                print(f"{progress}: kept from the earlier run", file=sys.stderr, flush=True)
                rows.append(kept)
            else:
                print(progress, file=sys.stderr, flush=True)
                done = ()
                case = make_case(
                    page_size, context, bs, extend, sweep.topk, device, mode_name=sweep.forward_mode, padded=sweep.padded,
                    lengths=lengths, profile=sweep.profile, page_table_1=sweep.page_table_1, index_kpool=index_kpool,
                )
                rows.append(measure_case(case, against, skipped=dict(skipped)))
                torch.cuda.empty_cache()
            for label in rows[-1]["against_slow"]:
                skipped.setdefault(label, f"left out: over {AGAINST_LIMIT_MS:.0f} ms per call at bs {bs}")
            on_row(rows)
    return rows


def write_results(
    out: Path, stem: str, heading: str, report: dict, rows: list[dict], against: dict[str, Variant], cases: int,
    bandwidth: list | None = None, capacity: list | None = None,
) -> str:
    """DIR/STEM.txt and DIR/STEM.json with the rows so far; the text written. Before the last case
    (a run a time limit may cut) the heading and the JSON say how many of the cases they hold."""
    complete = len(rows) == cases
    if not complete:
        heading += f"; partial: {len(rows)} of {cases} cases, the run did not finish"
    sections = [heading]
    if bandwidth:
        sections.append(format_bandwidth(bandwidth))
    if capacity:
        sections.append(format_capacity(capacity))
    sections.append(format_table(rows, against))
    text = "\n".join(sections)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.txt").write_text(text + "\n")
    full = {**report, "cases": cases, "complete": complete, "results": rows, "page_table_bandwidth": bandwidth, "capacity": capacity}
    (out / f"{stem}.json").write_text(json.dumps(full, indent=2))
    return text


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    against: dict[str, Variant] = {}
    for text in args.against:
        label, spec, convention = against_spec(text, args.convention)
        try:
            against[label] = load_variant(spec, convention=convention, forward_mode=args.forward_mode, profile=args.profile)
        except BadVariant as error:
            print(f"--against: {error}", file=sys.stderr)
            return 2
    if not torch.cuda.is_available():
        print("the benchmark needs a CUDA device: its GPU figures are CUDA-graph replays", file=sys.stderr)
        return 2
    if not kernel.triton_enabled():
        print(
            "the Triton path is off (SGLANG_DSA_USE_TRITON_METADATA=0, or no Triton): nothing to benchmark",
            file=sys.stderr,
        )
        return 2
    sweep = resolve_sweep(args)
    device = torch.device("cuda")
    began = time.perf_counter()
    heading = (
        f"{sweep.forward_mode}; device: {torch.cuda.get_device_name()}; torch {torch.__version__}, "
        f"triton {triton.__version__}; topk {sweep.topk}"
    )
    stem = "benchmark" if sweep.forward_mode == DEFAULT_FORWARD_MODE else f"benchmark-{sweep.forward_mode}"
    report = {
        "device": torch.cuda.get_device_name(),
        "torch": torch.__version__,
        "triton": triton.__version__,
        "python": platform.python_version(),
        "argv": sys.argv[1:] if argv is None else argv,
        "sweep": dataclasses.asdict(sweep),
        "against": {label: {"spec": v.spec, "convention": v.convention} for label, v in against.items()},
        "method": {
            "warmup_calls": WARMUP_CALLS,
            "host": {"blocks": HOST_BLOCKS, "calls_per_block": HOST_CALLS_PER_BLOCK, "budget_s": HOST_BUDGET_S, "rounds": HOST_ROUNDS},
            "graph": {"calls": [GRAPH_MIN_CALLS, GRAPH_MAX_CALLS], "target_ms": GRAPH_TARGET_MS,
                      "replays": [REPLAYS_MIN, REPLAYS_MAX], "max_input_sets": MAX_INPUT_SETS},
        },
    }
    cases = sweep_cases(sweep)
    done = resumed_rows(args.out / f"{stem}.json", report) if args.resume else []
    # Each row is written as soon as it is timed, so that a run its time limit cuts keeps its rows.
    rows = run_sweep(
        sweep, against, device, lambda rows: write_results(args.out, stem, heading, report, rows, against, cases), done=done
    )
    print("measuring page-table bandwidth", file=sys.stderr, flush=True)
    bandwidth = [measure_bandwidth(p, sweep.topk, device, sweep.forward_mode) for p in BANDWIDTH_PAGE_SIZES]
    capacity = None
    if args.capacity:
        print("measuring capacity", file=sys.stderr, flush=True)
        capacity = [
            measure_capacity(p, bs, sweep.topk, device, sweep.forward_mode) for p in CAPACITY_PAGE_SIZES for bs in CAPACITY_BATCH_SIZES
        ]

    text = write_results(args.out, stem, heading, report, rows, against, cases, bandwidth, capacity)
    title = f"{sweep.forward_mode} metadata fill, topk {sweep.topk}\n{torch.cuda.get_device_name()}"
    plotted = plot(rows, args.out / f"{stem}.png", title)
    wrote = f", {stem}.png" if plotted else " (no matplotlib: no plot)"
    print(
        f"wrote {args.out}/{stem}.txt, {stem}.json{wrote} in {time.perf_counter() - began:.0f}s",
        file=sys.stderr,
        flush=True,
    )
    print(text)
    return 0
