"""GPU time of a variant next to a baseline, over the range the contract declares, measured in one run.

The speed row times a fixed design of cells (`SPEED_CELLS`) that reaches each end of every declared
axis without taking their product: bs 1 to 4,096 at 8k columns, 8k to 1M columns at small and mid
batches, page sizes 1 and 64, each declared KPool size, and each declared launch form. A variant slow
only at large batches or only at long contexts is slow in some cell. The cost stays bounded: 19 cells
at most, each timed for `REP_MS` per kernel, the largest a 4,096-request step over 8k columns or 2 to
4 requests over a million; the eager path (host-timed, a Python loop) only in the three small cells.

GPU time is many calls captured in one CUDA graph and replayed (`triton.testing.do_bench_cudagraph`),
so the launch is not in the number; the median is reported. A variant that cannot be captured (it
syncs with the host) is timed by host wall time per call instead, and says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from properties.cases import ReplayCase
from properties.harness import (
    GRAPH_RESIDENT,
    HOST_SIZED,
    SHIPPED_KERNELS,
    STATIC_WIDTH,
    Contract,
    Variant,
    hyphenated,
    in_launch_form,
    load_variant,
    on_host,
)
from reference.eager import FILLS
from reference.engines import KPOOL_PAGE_SIZE, KPOOL_SIZES

REP_MS = 50  # do_bench_cudagraph's time per measurement


@dataclass(frozen=True)
class SpeedCell:
    bs: int
    context: int
    page_size: int = 64
    index_kpool: int = 1
    launch: str = HOST_SIZED
    eager: bool = False  # the eager path is timed beside it (small cells only: it loops in Python)

    def name(self) -> str:
        columns = f"{self.context // 1024}k" if self.context < 10**6 else f"{self.context // 10**6}M"
        parts = [f"bs {self.bs}", columns, f"page {self.page_size}"]
        if self.index_kpool != 1:
            parts.append(f"KPool {self.index_kpool}")
        if self.launch != HOST_SIZED:
            parts.append(hyphenated(self.launch))
        return ", ".join(parts)


K8, K128, M1 = 8192, 131072, 1_000_003
SPEED_CELLS: tuple[SpeedCell, ...] = (
    SpeedCell(8, K8, eager=True),
    SpeedCell(64, K8, eager=True),
    SpeedCell(512, K8, eager=True),
    SpeedCell(1, K8),
    SpeedCell(1024, K8),
    SpeedCell(4096, K8),
    SpeedCell(512, K8, page_size=1),
    SpeedCell(4096, K8, page_size=1),
    SpeedCell(8, K128),
    SpeedCell(64, K128, page_size=1),
    SpeedCell(4, M1),
    SpeedCell(2, M1, page_size=1),
    *(SpeedCell(256, K8, page_size=KPOOL_PAGE_SIZE, index_kpool=k) for k in KPOOL_SIZES if k != 1),
    SpeedCell(512, K8, launch=GRAPH_RESIDENT),
    SpeedCell(32, K128, launch=GRAPH_RESIDENT),
    SpeedCell(512, K8, launch=STATIC_WIDTH),
)


def speed_case(bs: int, context: int, *, page_size: int = 64, seed: int = 0, mode_name: str = "draft-extend", index_kpool: int = 1) -> ReplayCase:
    """A step of the forward mode as serving sees it: sequences in [context/2, context - 4], topk
    2048; draft-extend's extend lengths ragged in 1..4, target-verify's next_n 4."""
    generator = torch.Generator().manual_seed(seed)
    seq_lens = torch.randint(context // 2, context - 3, (bs,), generator=generator)
    return ReplayCase(
        forward_mode=mode_name,
        next_n=4,
        seq_lens=tuple(seq_lens.tolist()),
        extend_seq_lens=tuple(torch.randint(1, 5, (bs,), generator=generator).tolist()),
        req_pool_indices=tuple(torch.randperm(bs, generator=generator).tolist()),
        pool_size=bs,
        context_len=context,
        nsa_index_topk=2048,
        page_size=page_size,
        max_seqlen_k=context,
        index_kpool=index_kpool,
    )


def gpu_time_us(fill: Contract, case: ReplayCase, device: torch.device, *, capturable: bool = True) -> tuple[float, str]:
    """(median microseconds per call, how it was measured)."""
    import triton.testing

    inputs, buffers = case.inputs(device), case.buffers(device)

    def call() -> None:
        with on_host(case):
            fill(*inputs, buffers, **case.options())

    call()
    torch.cuda.synchronize()
    if capturable:
        try:
            return 1000 * triton.testing.do_bench_cudagraph(call, rep=REP_MS, return_mode="median"), "GPU, CUDA graph"
        except Exception:
            torch.cuda.synchronize()
    samples = []
    for _ in range(20):
        start = time.perf_counter()
        call()
        torch.cuda.synchronize()
        samples.append(time.perf_counter() - start)
    return 1e6 * sorted(samples)[len(samples) // 2], "host wall, not capturable"


def _timed_form(variant: Variant, cell: SpeedCell, domain: str, case: ReplayCase):
    """(the callable, the case as it reads in the cell's launch form) for `variant`, or None where it
    does not declare that form, or does not take the cell's KPool size."""
    if cell.index_kpool != 1 and not getattr(variant.fill, "supports_index_kpool", False):
        return None
    judged = in_launch_form(variant, cell.launch, domain)
    if judged is None:
        return None
    fill, adapt = judged
    return fill, adapt(case)


def compare_speed(variant: Variant, device: torch.device, domain: str, baseline: Variant | None = None) -> list[dict]:
    """One row per cell of SPEED_CELLS that the variant declares, each measured side by side in this
    run: the variant's time, the baseline's (default: the shipped kernel of the mode) on the same
    case, the eager path's where the cell asks, and the variant's ratio to the baseline."""
    mode_name = variant.forward_mode
    baseline = baseline or load_variant(SHIPPED_KERNELS[mode_name], forward_mode=mode_name)
    rows = []
    for cell in SPEED_CELLS:
        case = speed_case(cell.bs, cell.context, page_size=cell.page_size, mode_name=mode_name, index_kpool=cell.index_kpool)
        mine_form = _timed_form(variant, cell, domain, case.in_domain(domain))
        theirs_form = _timed_form(baseline, cell, domain, case.in_domain(domain)) or _timed_form(
            baseline, SpeedCell(cell.bs, cell.context, cell.page_size, cell.index_kpool), domain, case.in_domain(domain)
        )
        if mine_form is None or theirs_form is None:
            continue
        mine, how = gpu_time_us(*mine_form, device)
        theirs, _ = gpu_time_us(*theirs_form, device)
        slow = gpu_time_us(FILLS[mode_name], theirs_form[1], device, capturable=False)[0] if cell.eager else None
        rows.append({"cell": cell.name(), "bs": cell.bs, "context": cell.context, "page_size": cell.page_size,
                     "index_kpool": cell.index_kpool, "launch": cell.launch, "variant_us": mine, "how": how,
                     "baseline": baseline.spec, "baseline_us": theirs, "ratio": mine / theirs, "eager_us": slow})
        torch.cuda.empty_cache()
    return rows


def speed_lines(rows: list[dict]) -> list[str]:
    return [
        f"{r['cell']}: {r['variant_us']:.1f} us ({r['how']}); {r['baseline']} {r['baseline_us']:.1f} us ({r['ratio']:.2f}x)"
        + (f"; eager {r['eager_us']:.0f} us (host wall)" if r["eager_us"] is not None else "")
        for r in rows
    ]
