"""Benchmark of the draft-extend metadata fill: the fused Triton kernel against the eager paths.

    python -m kernel.benchmark [--out DIR] [--quick] [--batch-sizes 1,8,...] [--contexts 8192,131072]
                               [--page-sizes 1,64] [--iters N] [--graph-replay-host] [--skip-capacity]

It produces numbers, a table, DIR/benchmark.json and DIR/benchmark.png; it asserts nothing about time.

Implementations, each filling the same `DraftExtendMetadataBuffers`:

* fused    - `kernel.fill_draft_extend_metadata` with max_seqlen_k = context: one launch, no host
             sync, the grid sized on the host from max_seqlen_k.
* resident - the same call with max_seqlen_k=None, the graph-resident mode: the kernel takes
             max(seq_lens) on the device and the grid is sized from the buffers' column capacity
             (here = context), so a captured graph needs nothing from the host at replay.
* eager    - `reference.eager.fill_draft_extend_metadata`: SGLang's code, a Python loop over the
             batch and two host syncs.
* option1  - the kernel's allocating `expand_seqlens` (no `total_tokens`, so it syncs once to size its
             output) in place of the eager loop, then the eager copies unchanged.
* empty    - an empty Triton kernel with one pointer argument on a grid of (1,): the launch floor.

Inputs, per (page_size, context, batch size bs): extend lengths ragged in 1..4 and seq_lens uniform in
[context // 2, context], both from a seeded generator; max_seqlen_k = context; a [bs + 16, context]
int32 req_to_token of distinct slots, handed out a page at a time in random page order; buffers from
`DraftExtendMetadataBuffers.allocate(max_bs=bs, max_total_tokens=4 * bs, ...)`.

Measurements:

* Host us per call. A single call's perf_counter delta is too coarse and, without a synchronize,
  says nothing about when the device catches up; with one, it is no longer host cost. So calls run
  in 20 blocks of N // 20 (N = --iters, 25 per block by default): perf_counter spans each block, a
  torch.cuda.synchronize() follows each block outside the span, and the figure is the median over
  blocks of (block time / calls in block). A block of 25 launches never fills the launch queue, so
  for the fused, resident and empty paths this is the pure host cost of issuing a call. The eager
  and option1 paths sync inside every call, so theirs includes waiting for the device: that wait is
  their cost.
* GPU us. The call is captured in a torch.cuda.CUDAGraph (after warm-up calls on a side stream, as
  PyTorch documents) and graph.replay() is timed with triton.testing.do_bench, median, L2 flushed
  between runs. eager and option1 sync with the host and cannot be captured: '-'. The empty kernel's
  figure is the floor of this method (graph launch plus event timing).
* --graph-replay-host: host us per step of replaying a graph that holds only the fused call, and one
  that holds only the resident call, timed as the host figures are.
* Page-table bandwidth, per page size, at bs = 512 (else the largest bs) and context 8192 (else the
  smallest): bytes = tokens * max_seqlen_k * 4 written + bs * max_seqlen_k * 4 read (+ the real page
  table written, for page_size > 1), over the fused GPU time; against a device copy whose read plus
  written bytes are the same total, timed the same way.
* Capacity (GPU only; --skip-capacity skips it): what the resident mode pays for a grid sized from
  the capacity rather than the real longest sequence. The inputs above at context 8192 (seq_lens
  in [4096, 8192]), bs 128 and 512, page sizes 1 and 64, with req_to_token and buffers of column
  capacity 8192 and of 163840 (DeepSeek-V3.2's longest context); GPU us, as above, of resident at
  capacity 8192, resident at 163840, and fused (max_seqlen_k = 8192) at 163840, with the ratios
  resident@163840 / resident@8192 and resident@163840 / fused@163840.

Without CUDA the same code runs on CPU tensors under the Triton interpreter, on a small sweep by
default (bs 1 and 8, context 256, 20 calls), with no GPU figures: a smoke test of the program only,
its numbers say nothing about speed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

ON_GPU = torch.cuda.is_available()
if not ON_GPU and os.environ.get("TRITON_INTERPRET") != "1" and __name__ == "__main__":
    # Triton reads this flag as each kernel is decorated, its own library's included, and `python -m
    # kernel.benchmark` has imported Triton through the kernel package before this line runs: so start
    # again in a fresh interpreter with the flag set. (An importer on CPU sets it first, as conftest does.)
    os.environ["TRITON_INTERPRET"] = "1"
    os.execv(sys.executable, sys.orig_argv)

import triton  # noqa: E402
import triton.testing  # noqa: E402

import kernel  # noqa: E402
from reference import eager  # noqa: E402
from reference.buffers import DraftExtendMetadataBuffers  # noqa: E402

NSA_INDEX_TOPK = 2048  # DeepSeek-V3.2's index_topk
MAX_EXTEND = 4
POOL_SPARE_ROWS = 16
SEED = 0
BLOCKS = 20
WARMUP_CALLS = 3
IMPLEMENTATIONS = ("fused", "resident", "eager", "option1", "empty")
CAPTURABLE = ("fused", "resident", "empty")
REPLAYED = ("fused", "resident")  # the graphs whose replay --graph-replay-host times on the host
BANDWIDTH_BS = 512
BANDWIDTH_CONTEXT = 8192
CAPACITY_CONTEXT = 8192
CAPACITY_WIDE = 163840
CAPACITY_BATCH_SIZES = (128, 512)
CAPACITY_PAGE_SIZES = (1, 64)
CPU_NOTE = "CPU / Triton interpreter: these numbers are not meaningful for speed."


@dataclass(frozen=True)
class Sweep:
    page_sizes: tuple[int, ...]
    contexts: tuple[int, ...]
    batch_sizes: tuple[int, ...]
    iters: int


FULL_SWEEP = Sweep(page_sizes=(1, 64), contexts=(8192, 131072), batch_sizes=(1, 8, 32, 128, 512, 2048), iters=500)
QUICK_SWEEP = Sweep(page_sizes=(1, 64), contexts=(8192,), batch_sizes=(1, 32, 512), iters=100)
CPU_SWEEP = Sweep(page_sizes=(1, 64), contexts=(256,), batch_sizes=(1, 8), iters=20)


@dataclass
class Case:
    page_size: int
    context: int
    bs: int
    total_tokens: int
    seq_lens: torch.Tensor
    extend_seq_lens: torch.Tensor
    req_pool_indices: torch.Tensor
    req_to_token: torch.Tensor
    buffers: DraftExtendMetadataBuffers

    def fill(self, fn: Callable[..., None], *, resident: bool = False, **extra) -> None:
        """Call fn on this case; resident=True passes max_seqlen_k=None, the graph-resident mode."""
        fn(
            self.seq_lens,
            self.extend_seq_lens,
            self.req_pool_indices,
            self.req_to_token,
            self.buffers,
            nsa_index_topk=NSA_INDEX_TOPK,
            page_size=self.page_size,
            max_seqlen_k=None if resident else self.context,
            **extra,
        )


def make_req_to_token(rows: int, context: int, page_size: int, device: torch.device) -> torch.Tensor:
    """Distinct slots, a page of consecutive slots at a time, the pages in random order."""
    pages_per_row = -(-context // page_size)
    gen = torch.Generator(device=device).manual_seed(SEED)
    pages = torch.randperm(rows * pages_per_row, generator=gen, device=device).to(torch.int32)
    slots = pages[:, None] * page_size + torch.arange(page_size, dtype=torch.int32, device=device)
    return slots.view(rows, pages_per_row * page_size)[:, :context].contiguous()


def make_case(page_size: int, context: int, bs: int, device: torch.device, capacity: int | None = None) -> Case:
    """The inputs for (page_size, context, bs); req_to_token and the buffers hold `capacity` columns
    (default: context). seq_lens, extend lengths and pool rows depend only on context and bs."""
    capacity = capacity or context
    gen = torch.Generator().manual_seed(SEED)
    extend_seq_lens = torch.randint(1, MAX_EXTEND + 1, (bs,), generator=gen, dtype=torch.int32)
    seq_lens = torch.randint(context // 2, context + 1, (bs,), generator=gen, dtype=torch.int32)
    pool_rows = bs + POOL_SPARE_ROWS
    req_pool_indices = torch.randperm(pool_rows, generator=gen)[:bs]
    return Case(
        page_size=page_size,
        context=context,
        bs=bs,
        total_tokens=int(extend_seq_lens.sum()),
        seq_lens=seq_lens.to(device),
        extend_seq_lens=extend_seq_lens.to(device),
        req_pool_indices=req_pool_indices.to(device),
        req_to_token=make_req_to_token(pool_rows, capacity, page_size, device),
        buffers=DraftExtendMetadataBuffers.allocate(
            max_bs=bs, max_total_tokens=MAX_EXTEND * bs, max_seqlen_k=capacity, page_size=page_size, device=device
        ),
    )


def option1_fill(
    seq_lens: torch.Tensor,
    extend_seq_lens: torch.Tensor,
    req_pool_indices: torch.Tensor,
    req_to_token: torch.Tensor,
    buffers: DraftExtendMetadataBuffers,
    *,
    nsa_index_topk: int,
    page_size: int,
    max_seqlen_k: int,
) -> None:
    """`reference.eager.fill_draft_extend_metadata` with its per-request loop replaced by the kernel's
    allocating `expand_seqlens`, whose one sync reads the token count."""
    bs = seq_lens.shape[0]
    seqlens_expanded, nsa_cache_seqlens = kernel.expand_seqlens(
        extend_seq_lens, seq_lens, nsa_index_topk, validate=False
    )
    total_tokens = seqlens_expanded.shape[0]

    cache_seqlens = seq_lens.to(torch.int32)
    cumulate_cache_seqlens = torch.cumsum(cache_seqlens, dim=0, dtype=torch.int32)
    page_indices = req_to_token[req_pool_indices, :max_seqlen_k]
    # The token count is on the host already; without output_size repeat_interleave would sync again.
    page_indices = torch.repeat_interleave(page_indices, repeats=extend_seq_lens, dim=0, output_size=total_tokens)

    buffers.cache_seqlens_int32[:bs].copy_(cache_seqlens)
    buffers.cu_seqlens_k[1 : bs + 1].copy_(cumulate_cache_seqlens)
    buffers.page_table_1[:total_tokens, :max_seqlen_k].copy_(page_indices)
    buffers.nsa_seqlens_expanded[:total_tokens].copy_(seqlens_expanded)
    buffers.nsa_cache_seqlens_int32[:total_tokens].copy_(nsa_cache_seqlens)
    buffers.nsa_cu_seqlens_k[1 : 1 + total_tokens].copy_(torch.cumsum(nsa_cache_seqlens, dim=0, dtype=torch.int32))

    if page_size > 1:
        real_page_table = eager.transform_table_1_to_real(page_indices, page_size)
        buffers.real_page_table[:total_tokens, : real_page_table.shape[1]].copy_(real_page_table)


@triton.jit
def _empty_kernel(ptr):
    pass


def implementations(case: Case) -> dict[str, Callable[[], None]]:
    return {
        # validate=False: the kernel paths must not pick up a syncing validation mode from the environment.
        "fused": lambda: case.fill(kernel.fill_draft_extend_metadata, validate=False),
        "resident": lambda: case.fill(kernel.fill_draft_extend_metadata, resident=True, validate=False),
        "eager": lambda: case.fill(eager.fill_draft_extend_metadata),
        "option1": lambda: case.fill(option1_fill),
        "empty": lambda: _empty_kernel[(1,)](case.seq_lens),
    }


def synchronize() -> None:
    if ON_GPU:
        torch.cuda.synchronize()


def host_timing(fn: Callable[[], None], iters: int) -> dict:
    """Host us per call: the median over BLOCKS blocks of (block time / calls per block)."""
    block = max(1, iters // BLOCKS)
    for _ in range(WARMUP_CALLS):
        fn()
    synchronize()
    per_call_us = []
    for _ in range(BLOCKS):
        start = time.perf_counter()
        for _ in range(block):
            fn()
        per_call_us.append((time.perf_counter() - start) / block * 1e6)
        # Outside the timed span, so that each block starts on an idle device and its launches never
        # wait for room in the queue.
        synchronize()
    return {"median_us": statistics.median(per_call_us), "calls_per_block": block, "per_call_us_by_block": per_call_us}


def capture_graph(fn: Callable[[], None]) -> torch.cuda.CUDAGraph:
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(WARMUP_CALLS):
            fn()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn()
    return graph


def graph_gpu_us(graph: torch.cuda.CUDAGraph) -> float:
    return triton.testing.do_bench(graph.replay, return_mode="median") * 1e3


def measure_case(case: Case, iters: int, graph_replay_host: bool) -> dict:
    calls = implementations(case)
    host = {name: host_timing(fn, iters) for name, fn in calls.items()}
    gpu_us = dict.fromkeys(IMPLEMENTATIONS)
    replay_host = None
    if ON_GPU:
        graphs = {name: capture_graph(calls[name]) for name in CAPTURABLE}
        gpu_us.update({name: graph_gpu_us(graph) for name, graph in graphs.items()})
        if graph_replay_host:
            replay_host = {name: host_timing(graphs[name].replay, iters) for name in REPLAYED}
    return {
        "page_size": case.page_size,
        "context": case.context,
        "bs": case.bs,
        "total_tokens": case.total_tokens,
        "host": host,
        "gpu_us": gpu_us,
        "graph_replay_host": replay_host,
    }


def page_table_bytes(row: dict) -> int:
    cols = row["context"]
    written = row["total_tokens"] * cols * 4
    read = row["bs"] * cols * 4
    if row["page_size"] > 1:
        written += row["total_tokens"] * -(-cols // row["page_size"]) * 4
    return written + read


def copy_gpu_us(nbytes: int) -> float:
    """A device copy that reads nbytes / 2 and writes nbytes / 2."""
    src = torch.zeros(nbytes // 8, dtype=torch.int32, device="cuda")
    dst = torch.empty_like(src)
    return graph_gpu_us(capture_graph(lambda: dst.copy_(src)))


def bandwidth_row(rows: list[dict], page_size: int) -> dict:
    candidates = [r for r in rows if r["page_size"] == page_size]
    contexts = {r["context"] for r in candidates}
    context = BANDWIDTH_CONTEXT if BANDWIDTH_CONTEXT in contexts else min(contexts)
    candidates = [r for r in candidates if r["context"] == context]
    sizes = {r["bs"] for r in candidates}
    bs = BANDWIDTH_BS if BANDWIDTH_BS in sizes else max(sizes)
    return next(r for r in candidates if r["bs"] == bs)


def measure_bandwidth(rows: list[dict]) -> list[dict]:
    out = []
    for page_size in sorted({r["page_size"] for r in rows}):
        row = bandwidth_row(rows, page_size)
        nbytes = page_table_bytes(row)
        fused_gbps = nbytes / (row["gpu_us"]["fused"] * 1e3)
        copy_us = copy_gpu_us(nbytes)
        copy_gbps = nbytes / (copy_us * 1e3)
        out.append(
            {
                "page_size": page_size,
                "context": row["context"],
                "bs": row["bs"],
                "bytes": nbytes,
                "fused_gpu_us": row["gpu_us"]["fused"],
                "fused_gb_per_s": fused_gbps,
                "copy_gpu_us": copy_us,
                "copy_gb_per_s": copy_gbps,
                "fused_over_copy": fused_gbps / copy_gbps,
            }
        )
    return out


def cell(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def format_table(rows: list[dict], graph_replay_host: bool) -> str:
    replay_cols = [f"replay:{name}" for name in REPLAYED] if graph_replay_host else []
    gpu_cols = ("fused", "resident", "option1", "empty")
    header = (
        ["page", "context", "bs", "tokens"]
        + [f"host:{name}" for name in (*IMPLEMENTATIONS, *replay_cols)]
        + ["fused/empty", "eager/fused"]
        + [f"gpu:{name}" for name in gpu_cols]
    )
    lines = []
    for r in rows:
        host = {name: r["host"][name]["median_us"] for name in IMPLEMENTATIONS}
        replay = r["graph_replay_host"]
        host.update({f"replay:{name}": replay[name]["median_us"] if replay else None for name in REPLAYED})
        lines.append(
            [str(r["page_size"]), str(r["context"]), str(r["bs"]), str(r["total_tokens"])]
            + [cell(host[name]) for name in (*IMPLEMENTATIONS, *replay_cols)]
            + [cell(host["fused"] / host["empty"], ".3g"), cell(host["eager"] / host["fused"], ".3g")]
            + [cell(r["gpu_us"][name]) for name in gpu_cols]
        )
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]

    def render(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) for c, w in zip(cells, widths))

    return "\n".join(
        [
            "us per call; host = median over blocks of block time / calls, ratios are of host times; "
            "gpu = CUDA-graph replay, do_bench median",
            render(header),
        ]
        + [render(line) for line in lines]
    )


def format_bandwidth(bandwidth: list[dict]) -> str:
    if not bandwidth:
        return "page-table bandwidth: - (needs GPU times)"
    lines = ["page-table bandwidth (fused vs a device copy moving the same bytes):"]
    for b in bandwidth:
        lines.append(
            f"  page_size={b['page_size']} context={b['context']} bs={b['bs']} bytes={b['bytes']}: "
            f"fused {b['fused_gb_per_s']:.0f} GB/s ({b['fused_gpu_us']:.1f} us), "
            f"copy {b['copy_gb_per_s']:.0f} GB/s ({b['copy_gpu_us']:.1f} us), ratio {b['fused_over_copy']:.2f}"
        )
    return "\n".join(lines)


def capacity_gpu_us(case: Case, resident: bool) -> float:
    graph = capture_graph(lambda: case.fill(kernel.fill_draft_extend_metadata, resident=resident, validate=False))
    return graph_gpu_us(graph)


def measure_capacity_row(page_size: int, bs: int, device: torch.device) -> dict:
    """The same real inputs in buffers of two column capacities (the cases differ only in those
    widths and in the slot values of req_to_token); the wide case is freed on return."""
    narrow = make_case(page_size, CAPACITY_CONTEXT, bs, device)
    wide = make_case(page_size, CAPACITY_CONTEXT, bs, device, capacity=CAPACITY_WIDE)
    resident_narrow = capacity_gpu_us(narrow, resident=True)
    resident_wide = capacity_gpu_us(wide, resident=True)
    fused_wide = capacity_gpu_us(wide, resident=False)
    return {
        "page_size": page_size,
        "context": CAPACITY_CONTEXT,
        "bs": bs,
        "total_tokens": narrow.total_tokens,
        "narrow_capacity": CAPACITY_CONTEXT,
        "wide_capacity": CAPACITY_WIDE,
        "resident_narrow_gpu_us": resident_narrow,
        "resident_wide_gpu_us": resident_wide,
        "fused_wide_gpu_us": fused_wide,
        "resident_wide_over_resident_narrow": resident_wide / resident_narrow,
        "resident_wide_over_fused_wide": resident_wide / fused_wide,
    }


def measure_capacity(device: torch.device) -> list[dict]:
    rows = []
    for page_size in CAPACITY_PAGE_SIZES:
        for bs in CAPACITY_BATCH_SIZES:
            print(f"measuring capacity page_size={page_size} bs={bs}", file=sys.stderr, flush=True)
            rows.append(measure_capacity_row(page_size, bs, device))
    return rows


def capacity_skip_reason(args: argparse.Namespace) -> str | None:
    if args.skip_capacity:
        return "--skip-capacity"
    if not ON_GPU:
        return "needs GPU times"
    return None


def format_capacity(capacity: list[dict] | None, skipped: str | None) -> str:
    if capacity is None:
        return f"capacity: skipped ({skipped})"
    narrow, wide = f"@{CAPACITY_CONTEXT}", f"@{CAPACITY_WIDE}"
    header = [
        "page",
        "bs",
        "tokens",
        f"resident{narrow}",
        f"resident{wide}",
        f"fused{wide}",
        f"res{wide}/res{narrow}",
        f"res{wide}/fused{wide}",
    ]
    lines = [
        [str(c["page_size"]), str(c["bs"]), str(c["total_tokens"])]
        + [cell(c[key]) for key in ("resident_narrow_gpu_us", "resident_wide_gpu_us", "fused_wide_gpu_us")]
        + [cell(c[key], ".3g") for key in ("resident_wide_over_resident_narrow", "resident_wide_over_fused_wide")]
        for c in capacity
    ]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    return "\n".join(
        [
            f"capacity: GPU us (CUDA-graph replay, do_bench median), context {CAPACITY_CONTEXT}, buffers and "
            f"req_to_token of {CAPACITY_CONTEXT} or {CAPACITY_WIDE} columns; fused is max_seqlen_k={CAPACITY_CONTEXT}",
        ]
        + ["  ".join(c.rjust(w) for c, w in zip(line, widths)) for line in [header, *lines]]
    )


def device_name() -> str:
    if ON_GPU:
        return torch.cuda.get_device_name()
    return f"CPU ({platform.processor() or platform.machine()}), Triton interpreter"


def plot(rows: list[dict], path: Path, graph_replay_host: bool) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    page_sizes = sorted({r["page_size"] for r in rows})
    contexts = sorted({r["context"] for r in rows})
    fig, axes = plt.subplots(
        len(page_sizes), len(contexts), squeeze=False, figsize=(max(8, 5.5 * len(contexts)), 4.2 * len(page_sizes))
    )
    for i, page_size in enumerate(page_sizes):
        for j, context in enumerate(contexts):
            ax = axes[i][j]
            panel = [r for r in rows if r["page_size"] == page_size and r["context"] == context]
            panel.sort(key=lambda r: r["bs"])
            sizes = [r["bs"] for r in panel]
            for name in IMPLEMENTATIONS:
                ax.plot(sizes, [r["host"][name]["median_us"] for r in panel], marker="o", label=name)
            if graph_replay_host and ON_GPU:
                for name in REPLAYED:
                    replay = [r["graph_replay_host"][name]["median_us"] for r in panel]
                    ax.plot(sizes, replay, marker="o", linestyle="--", label=f"{name} graph replay")
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xticks(sizes, [str(s) for s in sizes])
            ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
            ax.set_title(f"page_size={page_size}, context={context}")
            ax.set_xlabel("batch size")
            ax.set_ylabel("host us per call (median)")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize="small")
    title = f"draft-extend metadata fill: host latency per call\n{device_name()}"
    if not ON_GPU:
        title += "\n" + CPU_NOTE
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from exc


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m kernel.benchmark",
        description="Benchmark the fused draft-extend metadata fill (see the module docstring for the method).",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("benchmark-out"), help="output folder (default ./benchmark-out)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="on GPU, a small sweep: context 8192, bs 1, 32, 512, 100 calls"
    )
    parser.add_argument("--batch-sizes", type=int_list, help="comma-separated batch sizes")
    parser.add_argument("--contexts", type=int_list, help="comma-separated context lengths (max_seqlen_k)")
    parser.add_argument("--page-sizes", type=int_list, help="comma-separated page sizes (powers of two)")
    parser.add_argument(
        "--iters", type=int, help=f"calls per host measurement, run in {BLOCKS} blocks (default 500; 100 with --quick)"
    )
    parser.add_argument(
        "--graph-replay-host",
        action="store_true",
        help="also time the host cost of replaying a CUDA graph holding only the fused call, and one holding "
        "only the resident call (GPU only)",
    )
    parser.add_argument(
        "--skip-capacity",
        action="store_true",
        help=f"skip the capacity experiment (resident mode in {CAPACITY_WIDE}-column buffers; GPU only)",
    )
    args = parser.parse_args(argv)
    if args.contexts and min(args.contexts) < 2 * MAX_EXTEND:
        parser.error(f"contexts must be >= {2 * MAX_EXTEND}, so that every seq_len covers its extend length")
    return args


def resolve_sweep(args: argparse.Namespace) -> Sweep:
    """The mode's defaults, with every option given on the command line taking precedence."""
    base = CPU_SWEEP if not ON_GPU else QUICK_SWEEP if args.quick else FULL_SWEEP
    given = {
        "page_sizes": args.page_sizes,
        "contexts": args.contexts,
        "batch_sizes": args.batch_sizes,
        "iters": args.iters,
    }
    return dataclasses.replace(base, **{k: v for k, v in given.items() if v})


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not kernel.triton_enabled():
        raise SystemExit(
            "the Triton path is off (SGLANG_NSA_USE_TRITON_METADATA=0, or no Triton): nothing to benchmark"
        )
    sweep = resolve_sweep(args)
    device = torch.device("cuda" if ON_GPU else "cpu")
    print(f"device: {device_name()}; torch {torch.__version__}, triton {triton.__version__}")
    if not ON_GPU:
        print(CPU_NOTE)

    rows = []
    for page_size in sweep.page_sizes:
        for context in sweep.contexts:
            for bs in sweep.batch_sizes:
                print(f"measuring page_size={page_size} context={context} bs={bs}", file=sys.stderr, flush=True)
                case = make_case(page_size, context, bs, device)
                rows.append(measure_case(case, sweep.iters, args.graph_replay_host))
    bandwidth = measure_bandwidth(rows) if ON_GPU else []
    capacity_skipped = capacity_skip_reason(args)
    capacity = None if capacity_skipped else measure_capacity(device)

    print(format_table(rows, args.graph_replay_host))
    print(format_bandwidth(bandwidth))
    print(format_capacity(capacity, capacity_skipped))

    args.out.mkdir(parents=True, exist_ok=True)
    report = {
        "device": device_name(),
        "torch": torch.__version__,
        "triton": triton.__version__,
        "python": platform.python_version(),
        "meaningful_for_speed": ON_GPU,
        "sweep": dataclasses.asdict(sweep),
        "nsa_index_topk": NSA_INDEX_TOPK,
        "blocks": BLOCKS,
        "gpu_us_note": "CUDA-graph replay, triton.testing.do_bench median; null where the call syncs with the host",
        "results": rows,
        "page_table_bandwidth": bandwidth,
        "capacity": capacity,
        "capacity_skipped": capacity_skipped,
    }
    json_path = args.out / "benchmark.json"
    json_path.write_text(json.dumps(report, indent=2))
    png_path = args.out / "benchmark.png"
    plot(rows, png_path, args.graph_replay_host)
    print(f"wrote {json_path} and {png_path}")
    if not ON_GPU:
        print(CPU_NOTE)


if __name__ == "__main__":
    main()
