"""GPU time of a variant next to the shipped kernel and the eager path, measured in one run.

GPU time is many calls captured in one CUDA graph and replayed (`triton.testing.do_bench_cudagraph`),
so the launch is not in the number; the median is reported. A variant that cannot be captured (it
syncs with the host) is timed by host wall time per call instead, and says so.
"""

from __future__ import annotations

import time

import torch

from properties.cases import ReplayCase
from properties.harness import SHIPPED_KERNELS, Contract, Variant, load_variant, on_host
from reference.eager import FILLS

SIZES = ((8, 8192), (64, 8192), (512, 8192))  # (bs, context)


def speed_case(bs: int, context: int, *, page_size: int = 64, seed: int = 0, mode_name: str = "draft-extend") -> ReplayCase:
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
            return 1000 * triton.testing.do_bench_cudagraph(call, rep=50, return_mode="median"), "GPU, CUDA graph"
        except Exception:
            torch.cuda.synchronize()
    samples = []
    for _ in range(20):
        start = time.perf_counter()
        call()
        torch.cuda.synchronize()
        samples.append(time.perf_counter() - start)
    return 1e6 * sorted(samples)[len(samples) // 2], "host wall, not capturable"


def compare_speed(variant: Variant, device: torch.device, domain: str, baseline: Variant | None = None) -> list[dict]:
    """One row per size (SIZES), each measured side by side in this run: the variant's time, the
    baseline's (default: the shipped kernel of the mode), the eager path's, and the variant's ratio
    to the baseline."""
    mode_name = variant.forward_mode
    eager = FILLS[mode_name]
    baseline = baseline or load_variant(SHIPPED_KERNELS[mode_name], forward_mode=mode_name)
    rows = []
    for bs, context in SIZES:
        case = speed_case(bs, context, mode_name=mode_name).in_domain(domain)
        mine, how = gpu_time_us(variant.fill, case, device)
        theirs, _ = gpu_time_us(baseline.fill, case, device)
        slow, _ = gpu_time_us(eager, case, device, capturable=False)
        rows.append({"bs": bs, "context": context, "variant_us": mine, "how": how, "baseline": baseline.spec,
                     "baseline_us": theirs, "ratio": mine / theirs, "eager_us": slow})
    return rows


def speed_lines(rows: list[dict]) -> list[str]:
    return [
        f"bs {r['bs']}, {r['context'] // 1024}k: {r['variant_us']:.1f} us ({r['how']}); {r['baseline']} {r['baseline_us']:.1f} us "
        f"({r['ratio']:.2f}x); eager {r['eager_us']:.0f} us (host wall)"
        for r in rows
    ]
