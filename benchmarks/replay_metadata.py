"""Benchmark of one forward mode's metadata fill on one GPU (draft-extend by default): the shipped
kernel, host-sized and graph-resident, against the eager reference, an empty Triton launch, a device
copy of the bytes the mode must move (the floor) and, optionally, any other implementation of the
mode's contract.

    python -m benchmarks.replay_metadata --out DIR [--forward-mode decode|target-verify|draft-extend] [--quick]
        [--batch-sizes 1,8,...] [--contexts 8192,131072] [--page-sizes 1,64] [--extend ragged,equal]
        [--lengths half,serving-mix,equal] [--profile sglang-dsa|sglang-dsv4|full-width] [--topk 2048]
        [--against [LABEL=]SPEC[@CONVENTION] ...] [--convention NAME] [--capacity]

Progress goes to stderr; the results go to stdout, the main table last, and to DIR/benchmark.txt,
DIR/benchmark.json and DIR/benchmark.png. It asserts nothing about time. The method is in
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import math
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import triton

import kernel
from properties.cases import ReplayCase
from properties.harness import BadVariant, Variant, load_variant, on_host
from properties.harness import SHIPPED_KERNELS
from reference import eager
from reference.buffers import MetadataBuffers
from reference.engines import DEFAULT_PROFILE, ENGINE_PROFILES, engine_profile
from reference.modes import DEFAULT_FORWARD_MODE, FORWARD_MODES, TARGET_VERIFY, forward_mode

MAX_EXTEND = 4
POOL_SPARE_ROWS = 16
SEED = 0
WARMUP_CALLS = 3

HOST_BLOCKS = 20
HOST_CALLS_PER_BLOCK = 25
HOST_MIN_BLOCKS = 3
HOST_BUDGET_S = 0.25

GRAPH_MIN_CALLS = 20
GRAPH_MAX_CALLS = 100
GRAPH_TARGET_MS = 2.0
REPLAYS_MIN = 5
REPLAYS_MAX = 25
REPLAY_BUDGET_S = 0.2

# Input sets rotate through a graph until they span this many L2 caches, at most MAX_INPUT_SETS.
ROTATION_L2_MULTIPLE = 2
MAX_INPUT_SETS = 8

BANDWIDTH_BS = 512
BANDWIDTH_CONTEXT = 8192
BANDWIDTH_PAGE_SIZES = (1, 64)

CAPACITY_CONTEXT = 8192
CAPACITY_WIDE = 163840
CAPACITY_BATCH_SIZES = (128, 512)
CAPACITY_PAGE_SIZES = (1, 64)

# An --against variant slower than this per call is timed by wall clock at that batch size and left
# out at the larger ones of the same series: a per-bs loop at bs 4096 and 128k columns runs minutes.
AGAINST_LIMIT_MS = 50.0

EXTENDS = ("ragged", "equal")
# Each forward mode's tokens per request: draft-extend's extend lengths ragged in 1..4 or all 4;
# decode's one; target-verify's next_n.
MODE_EXTENDS = {
    "draft-extend": EXTENDS,
    "decode": ("one",),
    "target-verify": tuple(f"next_n={n}" for n in range(1, MAX_EXTEND + 1)),
}
QUICK_EXTENDS = {"draft-extend": ("ragged",), "decode": ("one",), "target-verify": (f"next_n={MAX_EXTEND}",)}
# How the kv lengths of a batch spread below the context: uniform over its upper half; a serving mix,
# log-uniform from SERVING_MIX_LEAST up (most requests short, a few long, as a live server holds
# them); all equal. Request 0 always takes the whole context, so that max_seqlen_k is the batch's own.
LENGTHS = ("half", "serving-mix", "equal")
SERVING_MIX_LEAST = 64
KERNEL, RESIDENT, EAGER, EMPTY, COPY = "kernel", "resident", "eager", "empty", "copy"
AGAINST_PREFIX = "vs:"  # an --against column's name is its label behind this


@dataclass(frozen=True)
class Sweep:
    page_sizes: tuple[int, ...]
    contexts: tuple[int, ...]
    batch_sizes: tuple[int, ...]
    extends: tuple[str, ...]
    topk: int = 2048
    forward_mode: str = DEFAULT_FORWARD_MODE
    padded: bool = False  # each batch a captured bucket whose last quarter is padding requests
    lengths: tuple[str, ...] = ("half", "serving-mix")
    profile: str = DEFAULT_PROFILE  # the contract the shipped kernel follows, and the floor's bytes
    page_table_1: bool = True  # False: the real page table alone, as SGLang's fused decode graphs ask


FULL_SWEEP = Sweep((1, 64), (8192, 131072), (1, 2, 4, 8, 16, 32, 64, 128, 512, 2048, 4096), EXTENDS)
QUICK_SWEEP = Sweep((1, 64), (8192, 131072), (1, 32, 512, 4096), ("ragged",), lengths=("serving-mix",))


@dataclass
class Case:
    page_size: int
    context: int
    capacity: int
    extend: str
    bs: int
    topk: int
    total_tokens: int
    seq_lens: torch.Tensor
    extend_seq_lens: torch.Tensor
    req_pool_indices: torch.Tensor
    req_to_token: torch.Tensor
    buffers: MetadataBuffers
    host: ReplayCase
    forward_mode: str = DEFAULT_FORWARD_MODE
    next_n: int = 1
    lengths: str = "half"

    def fill(self, fn: Callable[..., None], *, resident: bool = False, **extra) -> None:
        """Call fn on this case; resident=True passes max_seqlen_k=None, the graph-resident mode. A
        calling convention that takes host ints (the total, the longest extension) reads them from
        the case's host values, as the serving engine holds them."""
        with on_host(self.host):
            self.bound(fn, resident=resident, **extra)()

    def bound(self, fn: Callable[..., None], *, resident: bool = False, **extra) -> Callable[[], None]:
        """fn with this case's arguments bound once, as an engine's replay holds them: what a call of
        the shipped kernel costs the host, with nothing of the harness around it (an empty launch is
        timed bare too). Only a variant that reads the host values needs `fill`. Equal extend lengths
        come with the caller's promise (`static_extend_len`) to every fill that declares it, as
        SGLang's draft-extend of static width calls its kernel."""
        tensors = {
            "seq_lens": self.seq_lens,
            "extend_seq_lens": self.extend_seq_lens,
            "req_pool_indices": self.req_pool_indices,
            "req_to_token": self.req_to_token,
        }
        mode = forward_mode(self.forward_mode)
        options = mode.call_options(
            nsa_index_topk=self.topk, page_size=self.page_size, max_seqlen_k=None if resident else self.context, next_n=self.next_n
        )
        if self.host.static_extend_len and getattr(fn, "supports_static_extend_len", False):
            options["static_extend_len"] = True
        return functools.partial(fn, *(tensors[name] for name in mode.inputs), self.buffers, **options, **extra)

    def copy(self) -> Case:
        """The same inputs and buffers in tensors of their own, at other addresses."""
        return dataclasses.replace(
            self,
            seq_lens=self.seq_lens.clone(),
            extend_seq_lens=self.extend_seq_lens.clone(),
            req_pool_indices=self.req_pool_indices.clone(),
            req_to_token=self.req_to_token.clone(),
            buffers=make_buffers(
                self.bs, self.capacity, self.page_size, self.seq_lens.device, self.forward_mode, self.host.page_table_1_given
            ),
        )


def make_req_to_token(rows: int, columns: int, page_size: int, device: torch.device) -> torch.Tensor:
    """Distinct slots, a page of consecutive slots at a time, the pages in random order."""
    pages_per_row = -(-columns // page_size)
    gen = torch.Generator(device=device).manual_seed(SEED)
    pages = torch.randperm(rows * pages_per_row, generator=gen, device=device).to(torch.int32)
    slots = pages[:, None] * page_size + torch.arange(page_size, dtype=torch.int32, device=device)
    return slots.view(rows, pages_per_row * page_size)[:, :columns].contiguous()


def make_buffers(
    bs: int, capacity: int, page_size: int, device: torch.device, mode_name: str = DEFAULT_FORWARD_MODE, page_table_1: bool = True
) -> MetadataBuffers:
    """The mode's buffers (target-verify's without the optional 2-D schedule lengths; without
    page_table_1 where the caller gives none)."""
    dropped = {"paged_mqa_ctx_lens_2d", *(() if page_table_1 else ("page_table_1",))}
    names = tuple(name for name in forward_mode(mode_name).writes if name not in dropped)
    return MetadataBuffers.allocate(
        max_bs=bs, max_total_tokens=MAX_EXTEND * bs, max_seqlen_k=capacity, page_size=page_size, device=device, names=names
    )


def padding_of(bs: int, padded: bool) -> int:
    """How many of a bucket's bs requests pad it: a quarter, at least one past bs 1."""
    return max(1, bs // 4) if padded and bs > 1 else 0


def draw_seq_lens(lengths: str, context: int, bs: int, gen: torch.Generator) -> torch.Tensor:
    """bs seq_lens of at most `context` spread as LENGTHS says, the first one `context` itself."""
    if lengths == "equal":
        seq_lens = torch.full((bs,), context, dtype=torch.int32)
    elif lengths == "half":
        seq_lens = torch.randint(context // 2, context + 1, (bs,), generator=gen, dtype=torch.int32)
    else:
        least = min(SERVING_MIX_LEAST, context)
        exponent = torch.rand(bs, generator=gen, dtype=torch.float64) * math.log(context / least)
        seq_lens = (least * torch.exp(exponent)).round().clamp(least, context).to(torch.int32)
    seq_lens[:1] = context
    return seq_lens


def make_case(
    page_size: int, context: int, bs: int, extend: str, topk: int, device: torch.device, capacity: int | None = None,
    mode_name: str = DEFAULT_FORWARD_MODE, padded: bool = False, lengths: str = "half", profile: str = DEFAULT_PROFILE,
    page_table_1: bool = True,
) -> Case:
    """Draft-extend's extend lengths in 1..MAX_EXTEND (ragged) or all MAX_EXTEND (equal); decode's one
    token and target-verify's next_n (`next_n=N`) per request; kv lengths up to the context, spread as
    `lengths` says (draw_seq_lens); req_to_token and the buffers hold `capacity` columns (default:
    context). With `padded`, the last
    `padding_of(bs)` requests pad a captured bucket as SGLang's runners do: seq_len 1, pool row 0 and,
    for draft-extend, the draft width MAX_EXTEND."""
    capacity = capacity or context
    gen = torch.Generator().manual_seed(SEED)
    next_n = int(extend.removeprefix("next_n=")) if extend.startswith("next_n=") else 1
    if extend == "ragged":
        extend_seq_lens = torch.randint(1, MAX_EXTEND + 1, (bs,), generator=gen, dtype=torch.int32)
    elif extend == "equal":
        extend_seq_lens = torch.full((bs,), MAX_EXTEND, dtype=torch.int32)
    else:
        extend_seq_lens = torch.full((bs,), next_n, dtype=torch.int32)
    # Target-verify's kv length is seq_len + next_n: its seq_lens leave room for the draft.
    room = next_n if mode_name == TARGET_VERIFY.name else 0
    seq_lens = draw_seq_lens(lengths, context - room, bs, gen)
    pool_rows = bs + POOL_SPARE_ROWS
    # Pool row 0 is the runners' reserved row, which only padding requests point at.
    req_pool_indices = 1 + torch.randperm(pool_rows - 1, generator=gen)[:bs]
    pad = padding_of(bs, padded)
    if pad:
        seq_lens[bs - pad :] = 1
        req_pool_indices[bs - pad :] = 0
        if mode_name == "draft-extend":
            extend_seq_lens[bs - pad :] = MAX_EXTEND
    return Case(
        page_size=page_size,
        context=context,
        capacity=capacity,
        extend=extend,
        bs=bs,
        topk=topk,
        total_tokens=int(extend_seq_lens.sum()) if mode_name != "decode" else bs,
        seq_lens=seq_lens.to(device),
        extend_seq_lens=extend_seq_lens.to(device),
        req_pool_indices=req_pool_indices.to(device),
        req_to_token=make_req_to_token(pool_rows, capacity, page_size, device),
        buffers=make_buffers(bs, capacity, page_size, device, mode_name, page_table_1),
        forward_mode=mode_name,
        next_n=next_n,
        lengths=lengths,
        host=ReplayCase(
            forward_mode=mode_name,
            next_n=next_n,
            seq_lens=tuple(seq_lens.tolist()),
            extend_seq_lens=tuple(extend_seq_lens.tolist()),
            req_pool_indices=tuple(req_pool_indices.tolist()),
            pool_size=pool_rows,
            context_len=capacity,
            nsa_index_topk=topk,
            page_size=page_size,
            max_seqlen_k=context,
            static_extend_len=extend == "equal",
            padding=pad,
            profile=profile,
            page_table_1_given=page_table_1,
        ),
    )


def page_table_bytes(case: Case) -> int:
    """What the page tables must move under the case's profile: each token's row written and each
    request's row read, every column below max_seqlen_k under full-width and only the live prefix
    (the columns below the request's kv length) under a live-prefix profile; the real page table's
    pages too where page_size > 1, and only those where the caller gives no page_table_1."""
    host = case.host
    live = host.engine.live_prefix
    read = written = 0
    for kv, tokens in zip(host.kv_lens, host.extend_seq_lens):
        if tokens == 0:
            continue
        columns = min(kv, case.context) if live else case.context
        read += columns
        wide = columns if host.page_table_1_given else 0
        written += tokens * (wide + (-(-columns // case.page_size) if case.page_size > 1 else 0))
    return (read + written) * 4


def rotation(nbytes: int) -> int:
    """How many input sets a graph cycles through, so that a set is seldom still in L2 when its turn
    comes again."""
    l2 = torch.cuda.get_device_properties(torch.cuda.current_device()).L2_cache_size
    return max(1, min(MAX_INPUT_SETS, math.ceil(ROTATION_L2_MULTIPLE * l2 / max(nbytes, 1))))


def input_sets(case: Case) -> list[Case]:
    return [case] + [case.copy() for _ in range(rotation(page_table_bytes(case)) - 1)]


@triton.jit
def _empty_kernel(ptr):
    pass


def shipped(mode_name: str) -> Callable[..., None]:
    """The shipped kernel's fill of the forward mode."""
    return getattr(kernel, SHIPPED_KERNELS[mode_name].partition(":")[2])


def copies(sets: list[Case]) -> list[Callable[[], None]]:
    """The floor: a device copy reading and writing as many bytes as the mode must move (its page
    tables' reads and writes), one source and destination per input set."""
    calls = []
    for case in sets:
        src = torch.randint(0, 2**31 - 1, (max(page_table_bytes(case) // 8, 1),), dtype=torch.int32, device=case.seq_lens.device)
        calls.append(lambda src=src, dst=torch.empty_like(src): dst.copy_(src))
    return calls


def shipped_options(case: Case) -> dict:
    """How the shipped kernel is called on `case`: with its engine profile's options, and
    validate=False, so that a syncing validation mode set in the environment never reaches it."""
    host = case.host
    return {"validate": False, **host.engine.kernel_options(host.mode.pads_below_one)}


def implementations(sets: list[Case], against: dict[str, Variant]) -> dict[str, list[Callable[[], None]]]:
    """Each implementation's calls, one per input set for those a graph cycles through; the eager
    code is never captured, and the empty kernel reads nothing. The shipped kernel follows the case's
    engine profile; each --against variant is called as its convention calls it."""
    fill = shipped(sets[0].forward_mode)
    options = shipped_options(sets[0])
    calls = {
        KERNEL: [c.bound(fill, **options) for c in sets],
        RESIDENT: [c.bound(fill, resident=True, **options) for c in sets],
        EAGER: [lambda: sets[0].fill(eager.FILLS[sets[0].forward_mode])],
        EMPTY: [lambda: _empty_kernel[(1,)](sets[0].seq_lens)],
        COPY: copies(sets),
    }
    for label, variant in against.items():
        calls[AGAINST_PREFIX + label] = [lambda c=c, f=variant.fill: c.fill(f) for c in sets]
    return calls


def repeat(sample: Callable[[], float], most: int, least: int, budget_s: float) -> list[float]:
    """sample() `most` times, or, once budget_s has passed, as soon as it has run `least` times."""
    values, began = [], time.perf_counter()
    while len(values) < most and (len(values) < least or time.perf_counter() - began < budget_s):
        values.append(sample())
    return values


def host_us(
    fn: Callable[[], None], *, blocks: int = HOST_BLOCKS, warmup: int = WARMUP_CALLS, budget_s: float = HOST_BUDGET_S
) -> dict:
    """Host us per call: the median over blocks of (block wall time / calls in the block), the device
    synchronized after each block, outside the timed span, so that a block never waits for room in
    the launch queue. Up to HOST_CALLS_PER_BLOCK calls a block, fewer where `blocks` of them would
    outlast `budget_s`; `blocks` blocks, or as many past HOST_MIN_BLOCKS as `budget_s` allows."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    torch.cuda.synchronize()
    once = time.perf_counter() - start
    calls = max(1, min(HOST_CALLS_PER_BLOCK, int(budget_s / blocks / once)))

    def block() -> float:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        elapsed = time.perf_counter() - start
        torch.cuda.synchronize()
        return elapsed / calls * 1e6

    per_call = repeat(block, blocks, HOST_MIN_BLOCKS, budget_s)
    return {"us": statistics.median(per_call), "calls_per_block": calls, "blocks": len(per_call)}


def synced_call_us(fn: Callable[[], None]) -> float:
    """Wall us of one call, the device idle before it and synchronized inside the timed span."""
    torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - start) * 1e6


def wall_us(fn: Callable[[], None]) -> dict:
    """Wall us per call, the device synchronized inside the timed span: the GPU figure of a call that
    syncs with the host, which a graph cannot capture."""
    for _ in range(WARMUP_CALLS):
        fn()
    per_call = repeat(lambda: synced_call_us(fn), HOST_BLOCKS, HOST_MIN_BLOCKS, HOST_BUDGET_S)
    return {"us": statistics.median(per_call), "method": "wall", "calls": len(per_call)}


def in_graph_us(fns: list[Callable[[], None]]) -> dict:
    """GPU us per call: 20 to 100 calls (cycling over fns, one per input set) captured in one CUDA
    graph, each replay timed with events and divided by its calls; the median over replays."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for fn in fns:
            for _ in range(WARMUP_CALLS):
                fn()
    torch.cuda.current_stream().wait_stream(side)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for fn in fns:
        fn()
    end.record()
    end.synchronize()
    # Eager calls include their launch gaps, so this overestimates short calls: fewer of them fit.
    estimate_ms = max(start.elapsed_time(end) / len(fns), 1e-3)
    calls = max(GRAPH_MIN_CALLS, min(GRAPH_MAX_CALLS, int(GRAPH_TARGET_MS / estimate_ms)))
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for i in range(calls):
            fns[i % len(fns)]()
    graph.replay()
    torch.cuda.synchronize()

    def replay() -> float:
        start.record()
        graph.replay()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) * 1e3 / calls

    per_call = repeat(replay, REPLAYS_MAX, REPLAYS_MIN, REPLAY_BUDGET_S)
    return {
        "us": statistics.median(per_call),
        "method": "graph",
        "calls_per_graph": calls,
        "replays": len(per_call),
        "input_sets": len(fns),
    }


def syncs_with_host(fn: Callable[[], None]) -> bool:
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        fn()
    except RuntimeError:
        return True
    finally:
        torch.cuda.set_sync_debug_mode(0)
    return False


def gpu_us(name: str, fns: list[Callable[[], None]]) -> dict:
    if name == EAGER:
        return wall_us(fns[0])
    if not name.startswith(AGAINST_PREFIX):
        return in_graph_us(fns)
    if syncs_with_host(fns[0]):
        return {**wall_us(fns[0]), "note": "syncs with the host"}
    try:
        return in_graph_us(fns)
    except RuntimeError as error:
        torch.cuda.synchronize()
        return {**wall_us(fns[0]), "note": f"capture failed: {str(error).splitlines()[0]}"}


def measure_case(case: Case, against: dict[str, Variant], *, skipped: dict[str, str] | None = None) -> dict:
    """Every implementation on one case. An --against variant past AGAINST_LIMIT_MS per call gets a
    few wall-clock calls instead of the graph, and the row says so (`against_slow`), so that the
    series can leave it out at larger batch sizes; `skipped` names those left out here, and why."""
    skipped = skipped or {}
    sets = input_sets(case)
    calls = implementations(sets, {label: v for label, v in against.items() if label not in skipped})
    slow, figures = {}, {}
    for label in against:
        name = AGAINST_PREFIX + label
        if name not in calls:
            continue
        fn = calls[name][0]
        fn()  # compiles and warms up
        walls = [synced_call_us(fn)]
        if walls[0] > AGAINST_LIMIT_MS * 1e3:
            # The call that found it slow is the first of its three samples.
            walls += [synced_call_us(fn) for _ in range(2)]
            slow[label] = f"{walls[0] / 1e3:.0f} ms per call, over the {AGAINST_LIMIT_MS:.0f} ms limit: wall clock, 3 calls"
            figures[name] = {"us": statistics.median(walls), "method": "wall", "calls": 3, "note": slow[label]}
            del calls[name]
    host = {name: host_us(fns[0]) for name, fns in calls.items()}
    gpu = {name: gpu_us(name, fns) for name, fns in calls.items()}
    host.update(figures)
    gpu.update(figures)
    return {
        "forward_mode": case.forward_mode,
        "profile": case.host.profile,
        "lengths": case.lengths,
        "against_slow": slow,
        "against_skipped": skipped,
        "page_size": case.page_size,
        "context": case.context,
        "extend": case.extend,
        "padding": case.host.padding,
        "bs": case.bs,
        "total_tokens": case.total_tokens,
        "page_table_bytes": page_table_bytes(case),
        "host": host,
        "gpu": gpu,
    }


def measure_bandwidth(page_size: int, topk: int, device: torch.device, mode_name: str = DEFAULT_FORWARD_MODE) -> dict:
    """The kernel's page-table traffic against a device copy that reads and writes as many bytes."""
    case = make_case(page_size, BANDWIDTH_CONTEXT, BANDWIDTH_BS, QUICK_EXTENDS[mode_name][0], topk, device, mode_name=mode_name)
    sets = input_sets(case)
    nbytes = page_table_bytes(case)
    fill = shipped(mode_name)
    ours = in_graph_us([lambda c=c: c.fill(fill, validate=False) for c in sets])
    pairs = []
    for _ in sets:
        src = torch.randint(0, 2**31 - 1, (nbytes // 8,), dtype=torch.int32, device=device)
        pairs.append((src, torch.empty_like(src)))
    copy = in_graph_us([lambda src=src, dst=dst: dst.copy_(src) for src, dst in pairs])
    ours_gbps, copy_gbps = nbytes / (ours["us"] * 1e3), nbytes / (copy["us"] * 1e3)
    return {
        "page_size": page_size,
        "context": BANDWIDTH_CONTEXT,
        "bs": BANDWIDTH_BS,
        "total_tokens": case.total_tokens,
        "bytes": nbytes,
        "kernel_gpu_us": ours["us"],
        "kernel_gb_per_s": ours_gbps,
        "copy_gpu_us": copy["us"],
        "copy_gb_per_s": copy_gbps,
        "kernel_over_copy": ours_gbps / copy_gbps,
        "input_sets": len(sets),
    }


def measure_capacity(page_size: int, bs: int, topk: int, device: torch.device, mode_name: str = DEFAULT_FORWARD_MODE) -> dict:
    """The same real inputs (context 8192) in buffers of 8192 and of 163840 columns: what the
    graph-resident mode pays for a grid sized from the capacity."""
    fill = shipped(mode_name)
    extend = QUICK_EXTENDS[mode_name][0]

    def in_graph(case: Case, resident: bool) -> float:
        fns = [lambda c=c: c.fill(fill, resident=resident, validate=False) for c in input_sets(case)]
        return in_graph_us(fns)["us"]

    narrow = make_case(page_size, CAPACITY_CONTEXT, bs, extend, topk, device, mode_name=mode_name)
    resident_narrow = in_graph(narrow, resident=True)
    del narrow
    wide = make_case(page_size, CAPACITY_CONTEXT, bs, extend, topk, device, capacity=CAPACITY_WIDE, mode_name=mode_name)
    resident_wide, kernel_wide = in_graph(wide, resident=True), in_graph(wide, resident=False)
    return {
        "page_size": page_size,
        "context": CAPACITY_CONTEXT,
        "bs": bs,
        "total_tokens": wide.total_tokens,
        "narrow_capacity": CAPACITY_CONTEXT,
        "wide_capacity": CAPACITY_WIDE,
        "resident_narrow_gpu_us": resident_narrow,
        "resident_wide_gpu_us": resident_wide,
        "kernel_wide_gpu_us": kernel_wide,
        "resident_wide_over_resident_narrow": resident_wide / resident_narrow,
        "resident_wide_over_kernel_wide": resident_wide / kernel_wide,
    }


def render(header: list[str], lines: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    return ["  ".join(c.rjust(w) for c, w in zip(cells, widths)) for cells in [header, *lines]]


def us_cell(figure: dict | None) -> str:
    if figure is None:
        return "-"
    return f"{figure['us']:.1f}" + ("w" if figure.get("method") == "wall" else "")


def ratio(a: dict | None, b: dict | None) -> str:
    return "-" if a is None or b is None else format(a["us"] / b["us"], ".3g")


def format_table(rows: list[dict], against: dict[str, Variant]) -> str:
    others = [AGAINST_PREFIX + label for label in against]
    names = [KERNEL, RESIDENT, EAGER, EMPTY, COPY] + others
    gpu_names = {COPY: "floor"}
    header = (
        ["page", "context", "lengths", "extend", "bs", "padding", "tokens"]
        + [f"gpu:{gpu_names.get(n, n)}" for n in names]
        + [f"host:{n}" for n in names if n != COPY]
        + ["kernel/floor", "resident/kernel"]
        + [f"kernel/{label}" for label in against]
        + ["host kernel/empty", "host eager/kernel"]
    )
    lines = []
    for r in rows:
        gpu, host = r["gpu"], r["host"]
        line = [str(r["page_size"]), str(r["context"]), r.get("lengths", "half"), r["extend"], str(r["bs"]),
                str(r.get("padding", 0)), str(r["total_tokens"])]
        line += [us_cell(gpu.get(n)) for n in names] + [us_cell(host.get(n)) for n in names if n != COPY]
        line += [ratio(gpu[KERNEL], gpu.get(COPY)), ratio(gpu[RESIDENT], gpu[KERNEL])]
        line += [ratio(gpu[KERNEL], gpu.get(name)) for name in others]
        line += [ratio(host[KERNEL], host[EMPTY]), ratio(host[EAGER], host[KERNEL])]
        lines.append(line)
    profile = rows[0].get("profile", DEFAULT_PROFILE) if rows else DEFAULT_PROFILE
    legend = [
        "us per call. gpu: calls captured 20-100 to a CUDA graph, median over replays of replay time / calls;",
        "  'w': host wall per call with the device synced (the call syncs with the host, so no graph can hold it);",
        f"  floor: a device copy reading and writing the bytes the {profile} profile makes the mode move, timed the same way;",
        "  empty: an empty Triton kernel. host: median over blocks of block wall time / calls.",
    ]
    legend += [f"  {AGAINST_PREFIX}{label} = {v.spec} ({v.convention})" for label, v in against.items()] or ["  against: none (--against SPEC)"]
    if against:
        legend.append(
            f"  an against call over {AGAINST_LIMIT_MS:.0f} ms is timed by wall clock, 3 calls ('w'), and left out ('-') "
            "at larger bs of the same page, context and extend"
        )
    return "\n".join(legend + render(header, lines))


def format_bandwidth(bandwidth: list[dict]) -> str:
    lines = ["page-table bandwidth (kernel vs a device copy reading and writing the same bytes, both in-graph):"]
    for b in bandwidth:
        lines.append(
            f"  page_size={b['page_size']} context={b['context']} bs={b['bs']} bytes={b['bytes']}: "
            f"kernel {b['kernel_gb_per_s']:.0f} GB/s ({b['kernel_gpu_us']:.1f} us), "
            f"copy {b['copy_gb_per_s']:.0f} GB/s ({b['copy_gpu_us']:.1f} us), ratio {b['kernel_over_copy']:.2f}"
        )
    return "\n".join(lines)


def format_capacity(capacity: list[dict]) -> str:
    narrow, wide = f"@{CAPACITY_CONTEXT}", f"@{CAPACITY_WIDE}"
    header = ["page", "bs", "tokens", f"resident{narrow}", f"resident{wide}", f"kernel{wide}",
              f"res{wide}/res{narrow}", f"res{wide}/kernel{wide}"]
    lines = [
        [str(c["page_size"]), str(c["bs"]), str(c["total_tokens"])]
        + [f"{c[key]:.1f}" for key in ("resident_narrow_gpu_us", "resident_wide_gpu_us", "kernel_wide_gpu_us")]
        + [f"{c[key]:.3g}" for key in ("resident_wide_over_resident_narrow", "resident_wide_over_kernel_wide")]
        for c in capacity
    ]
    title = (
        f"capacity: GPU us in-graph, context {CAPACITY_CONTEXT}, buffers and req_to_token of {CAPACITY_CONTEXT} "
        f"or {CAPACITY_WIDE} columns; kernel is host-sized (max_seqlen_k={CAPACITY_CONTEXT})"
    )
    return "\n".join([title] + render(header, lines))


def plot(rows: list[dict], path: Path, title: str) -> bool:
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    groups = sorted({(r["page_size"], r.get("lengths", "half"), r["extend"]) for r in rows})
    contexts = sorted({r["context"] for r in rows})
    fig, axes = plt.subplots(
        len(groups), 2 * len(contexts), squeeze=False, figsize=(4.8 * 2 * len(contexts), 3.8 * len(groups))
    )
    for i, (page_size, lengths, extend) in enumerate(groups):
        for j, context in enumerate(contexts):
            panel = sorted(
                (r for r in rows if (r["page_size"], r.get("lengths", "half"), r["extend"], r["context"]) == (page_size, lengths, extend, context)),
                key=lambda r: r["bs"],
            )
            sizes = [r["bs"] for r in panel]
            for k, kind in enumerate(("gpu", "host")):
                ax = axes[i][2 * j + k]
                for name in panel[0][kind]:
                    points = [(r["bs"], r[kind][name]) for r in panel if name in r[kind]]
                    wall = points[0][1].get("method") == "wall"
                    label = ("floor" if kind == "gpu" and name == COPY else name) + (" (host wall)" if wall else "")
                    ax.plot([b for b, _ in points], [f["us"] for _, f in points], marker="o",
                            linestyle="--" if wall else "-", label=label)
                ax.set_xscale("log", base=2)
                ax.set_yscale("log")
                ax.set_xticks(sizes, [str(s) for s in sizes], fontsize="x-small")
                ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
                ax.set_title(f"{kind}: page {page_size}, context {context}, {lengths}, {extend}", fontsize="small")
                ax.set_xlabel("batch size")
                ax.set_ylabel("us per call (in-graph)" if kind == "gpu" else "host us per call")
                ax.grid(True, which="both", alpha=0.3)
                ax.legend(fontsize="x-small")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


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


def against_spec(text: str, convention: str) -> tuple[str, str, str]:
    """(label, spec, convention) of one --against value, `[LABEL=]SPEC[@CONVENTION]`."""
    label, _, rest = text.partition("=") if "=" in text.split(":")[0] else ("", "", text)
    spec, _, named = rest.partition("@")
    return label or spec.rpartition(":")[2], spec, named or convention


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
    }
    base = QUICK_SWEEP if args.quick else FULL_SWEEP
    mode = args.forward_mode
    base = dataclasses.replace(base, forward_mode=mode, extends=(QUICK_EXTENDS if args.quick else MODE_EXTENDS)[mode])
    sweep = dataclasses.replace(base, **{k: v for k, v in given.items() if v is not None})
    if not sweep.page_table_1:
        # Page size 1 has no real table apart from page_table_1.
        sweep = dataclasses.replace(sweep, page_sizes=tuple(p for p in sweep.page_sizes if p > 1))
    return sweep


def run_sweep(sweep: Sweep, against: dict[str, Variant], device: torch.device) -> list[dict]:
    rows, began = [], time.perf_counter()
    for page_size in sweep.page_sizes:
        for context in sweep.contexts:
            for lengths in sweep.lengths:
                for extend in sweep.extends:
                    skipped: dict[str, str] = {}
                    for bs in sorted(sweep.batch_sizes):
                        print(
                            f"[{time.perf_counter() - began:6.1f}s] page_size={page_size} context={context} "
                            f"lengths={lengths} extend={extend} bs={bs}",
                            file=sys.stderr,
                            flush=True,
                        )
                        case = make_case(
                            page_size, context, bs, extend, sweep.topk, device, mode_name=sweep.forward_mode, padded=sweep.padded,
                            lengths=lengths, profile=sweep.profile, page_table_1=sweep.page_table_1,
                        )
                        rows.append(measure_case(case, against, skipped=dict(skipped)))
                        for label in rows[-1]["against_slow"]:
                            skipped.setdefault(label, f"left out: over {AGAINST_LIMIT_MS:.0f} ms per call at bs {bs}")
                        torch.cuda.empty_cache()
    return rows


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
    rows = run_sweep(sweep, against, device)
    print("measuring page-table bandwidth", file=sys.stderr, flush=True)
    bandwidth = [measure_bandwidth(p, sweep.topk, device, sweep.forward_mode) for p in BANDWIDTH_PAGE_SIZES]
    capacity = None
    if args.capacity:
        print("measuring capacity", file=sys.stderr, flush=True)
        capacity = [
            measure_capacity(p, bs, sweep.topk, device, sweep.forward_mode) for p in CAPACITY_PAGE_SIZES for bs in CAPACITY_BATCH_SIZES
        ]

    heading = (
        f"{sweep.forward_mode}; device: {torch.cuda.get_device_name()}; torch {torch.__version__}, "
        f"triton {triton.__version__}; topk {sweep.topk}"
    )
    sections = [heading, format_bandwidth(bandwidth)]
    if capacity:
        sections.append(format_capacity(capacity))
    sections.append(format_table(rows, against))
    text = "\n".join(sections)

    args.out.mkdir(parents=True, exist_ok=True)
    stem = "benchmark" if sweep.forward_mode == DEFAULT_FORWARD_MODE else f"benchmark-{sweep.forward_mode}"
    (args.out / f"{stem}.txt").write_text(text + "\n")
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
            "host": {"blocks": HOST_BLOCKS, "calls_per_block": HOST_CALLS_PER_BLOCK, "budget_s": HOST_BUDGET_S},
            "graph": {"calls": [GRAPH_MIN_CALLS, GRAPH_MAX_CALLS], "target_ms": GRAPH_TARGET_MS,
                      "replays": [REPLAYS_MIN, REPLAYS_MAX], "max_input_sets": MAX_INPUT_SETS},
        },
        "results": rows,
        "page_table_bandwidth": bandwidth,
        "capacity": capacity,
    }
    (args.out / f"{stem}.json").write_text(json.dumps(report, indent=2))
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


if __name__ == "__main__":
    sys.exit(main())
