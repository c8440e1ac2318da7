"""The measurements: every implementation on one case, the page-table bandwidth against a device copy,
and what the graph-resident mode pays for its buffers' capacity."""

from __future__ import annotations

import statistics
from typing import Callable

import torch

from benchmarks.replay_metadata.cases import QUICK_EXTENDS, Case, input_sets, make_case, page_table_bytes
from benchmarks.replay_metadata.peers import AGAINST_LIMIT_MS, AGAINST_PREFIX, EAGER, implementations, shipped
from benchmarks.replay_metadata.timing import host_rounds_us, in_graph_us, synced_call_us, syncs_with_host, wall_us
from properties.harness import Variant
from reference.modes import DEFAULT_FORWARD_MODE

BANDWIDTH_BS = 512
BANDWIDTH_CONTEXT = 8192
BANDWIDTH_PAGE_SIZES = (1, 64)

CAPACITY_CONTEXT = 8192
CAPACITY_WIDE = 163840
CAPACITY_BATCH_SIZES = (128, 512)
CAPACITY_PAGE_SIZES = (1, 64)


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
    host = host_rounds_us({name: fns[0] for name, fns in calls.items()})
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
        "index_kpool": case.host.index_kpool,
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
