"""How time is measured: host time over blocks of calls, GPU time in a CUDA graph, wall time with
the device synchronized, and the empty launch that host time is set against."""

from __future__ import annotations

import statistics
import time
from typing import Callable

import torch
import triton

WARMUP_CALLS = 3

HOST_BLOCKS = 20
HOST_CALLS_PER_BLOCK = 25
HOST_MIN_BLOCKS = 3
HOST_BUDGET_S = 0.25
HOST_ROUNDS = 5

GRAPH_MIN_CALLS = 20
GRAPH_MAX_CALLS = 100
GRAPH_TARGET_MS = 2.0
REPLAYS_MIN = 5
REPLAYS_MAX = 25
REPLAY_BUDGET_S = 0.2


@triton.jit
def _empty_kernel(ptr):
    pass


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


def host_rounds_us(fns: dict[str, Callable[[], None]], *, rounds: int = HOST_ROUNDS) -> dict[str, dict]:
    """Host us per call of several implementations, side by side: `rounds` rounds, each timing every
    implementation in turn by host_us over HOST_BLOCKS // rounds blocks. A shared host's clock moves
    between seconds more than within one, so a ratio of two implementations is taken within each
    round and its median over rounds (`host_ratio`); each figure's `us` is its median over rounds,
    and `rounds_us` keeps every round's."""
    per_round: dict[str, list[float]] = {name: [] for name in fns}
    blocks = max(HOST_MIN_BLOCKS, HOST_BLOCKS // rounds)
    for _ in range(rounds):
        for name, fn in fns.items():
            per_round[name].append(host_us(fn, blocks=blocks, budget_s=HOST_BUDGET_S / rounds)["us"])
    return {
        name: {"us": statistics.median(values), "method": "host-rounds", "rounds_us": values, "blocks_per_round": blocks}
        for name, values in per_round.items()
    }


def host_ratio(a: dict | None, b: dict | None) -> float | None:
    """The median over rounds of a's host time over b's in the same round (host_rounds_us); the
    ratio of the medians where either figure has no rounds."""
    if a is None or b is None:
        return None
    ra, rb = a.get("rounds_us"), b.get("rounds_us")
    if ra and rb and len(ra) == len(rb):
        return statistics.median(x / y for x, y in zip(ra, rb))
    return a["us"] / b["us"]


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
