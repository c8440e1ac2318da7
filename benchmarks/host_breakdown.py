"""Where the shipped kernel's host time goes: each piece of a repeated call, timed alone, beside an
empty Triton launch through Triton's public path and through the same direct launch.

    python -m benchmarks.host_breakdown --out DIR [--bs 8] [--context 8192] [--page-size 64] [--rounds 7]

A repeated call of `kernel.fill_draft_extend_metadata` is: the switch to the Triton path (an
environment read), the plan-cache key, the lookup, the validation switch (another environment read)
and the direct launch of the compiled kernel. Each piece runs on its own, timed as the main
benchmark times host calls (`benchmarks.replay_metadata.timing.host_us`): blocks of 25 calls, the
device synchronized after each block, outside the timed span; a piece's figure is the median over
101 blocks. The rounds interleave the pieces, and ratios are taken within a round, then their median
over rounds: a shared host's clock moves between rounds more than within one.
The pieces are timed apart, so they need not add up to the whole call to the last tenth of a
microsecond. Results go to stdout and to DIR/host_breakdown.{txt,json,png}; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import textwrap
import time
from pathlib import Path
from typing import Callable

import torch
import triton

import kernel
from benchmarks.replay_metadata.cases import make_case
from benchmarks.replay_metadata.timing import HOST_CALLS_PER_BLOCK, _empty_kernel, host_us
from kernel import _triton_launch
from kernel.call import public_fills
from kernel.launch import LAUNCHER, fill_signature
from kernel.validation import validation_requested

WARMUP_CALLS = 200
BLOCKS = 101
# host_us shortens a piece's blocks, and stops early, where they would outlast its budget: at 60 s
# every piece keeps 101 blocks of 25 calls unless one call takes over 20 ms, which none does.
BUDGET_S = 60.0
TOPK = 2048
WHOLE = "whole call (kernel.fill_draft_extend_metadata)"
EMPTY = "empty kernel, public launch"
KEY = "plan-cache key (fill_signature)"


def pieces(bs: int, context: int, page_size: int) -> dict[str, Callable[[], None]]:
    """Each piece of a repeated call as a zero-argument callable, on the benchmark's own inputs; the
    call runs once first, so its plan is cached and its kernel compiled."""
    case = make_case(page_size, context, bs, "ragged", TOPK, torch.device("cuda"))
    args = (case.seq_lens, case.extend_seq_lens, case.req_pool_indices, case.req_to_token, case.buffers)
    options = {"nsa_index_topk": TOPK, "page_size": page_size, "max_seqlen_k": context}
    kernel.fill_draft_extend_metadata(*args, **options)
    triton_fill = public_fills(LAUNCHER.fill, kernel.__name__)[0]
    # The very call object the public fill builds, caught on its way to the launcher.
    calls = []
    capture = public_fills(calls.append, kernel.__name__)[0]
    capture(*args, **options)
    call = calls[0]
    key = fill_signature(call)
    plan = LAUNCHER.plans.get(key) if key is not None else None
    if plan is None or plan.direct is None:
        raise RuntimeError(
            "the call kept no direct-launch plan: a launch hook is installed, or Triton's private launch API "
            "is missing or changed"
        )
    empty_pointer = case.seq_lens
    _empty_kernel[(1,)](empty_pointer)
    empty_direct = _triton_launch.DirectLaunch(_empty_kernel.warmup(empty_pointer, grid=(1,)), (1, 1), (empty_pointer,))
    return {
        WHOLE: lambda: kernel.fill_draft_extend_metadata(*args, **options),
        "Triton path alone (no env switch)": lambda: triton_fill(*args, **options),
        "env switch (kernel.triton_enabled)": kernel.triton_enabled,
        KEY: lambda: fill_signature(call),
        "key and lookup": lambda: LAUNCHER.plans.get(fill_signature(call)),
        "validation switch (env read)": lambda: validation_requested(None),
        "direct launch of the kernel": plan.direct,
        EMPTY: lambda: _empty_kernel[(1,)](empty_pointer),
        "empty kernel, direct launch": empty_direct,
    }


def measure(named: dict[str, Callable[[], None]], rounds: int) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {name: [] for name in named}
    for _ in range(rounds):
        for name, fn in named.items():
            figures[name].append(host_us(fn, blocks=BLOCKS, warmup=WARMUP_CALLS, budget_s=BUDGET_S)["us"])
    return figures


def per_round(figures: dict[str, list[float]], numerator: str, denominator: str) -> float:
    """The median over rounds of a ratio taken within each round: a shared host's clock moves
    between rounds more than within one."""
    return statistics.median(a / b for a, b in zip(figures[numerator], figures[denominator]))


def report(figures: dict[str, list[float]], heading: str) -> str:
    width = max(map(len, figures))
    lines = [heading, f"{'piece':<{width}}  median us  rounds (us)"]
    for name, values in figures.items():
        lines.append(f"{name:<{width}}  {statistics.median(values):9.2f}  " + " ".join(f"{v:.2f}" for v in values))
    lines.append(f"whole call / empty public launch, per round: {per_round(figures, WHOLE, EMPTY):.2f}")
    lines.append(f"plan-cache key / whole call, per round: {per_round(figures, KEY, WHOLE):.2f}")
    return "\n".join(lines)


def plot(figures: dict[str, list[float]], heading: str, path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    names = list(figures)
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.barh(names[::-1], [statistics.median(figures[n]) for n in names[::-1]])
    ax.set_xlabel("host us per call (median)")
    ax.set_title(textwrap.fill(heading, 90), fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.host_breakdown", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("benchmark-out"), help="output folder (default ./benchmark-out)")
    parser.add_argument("--bs", type=int, default=8)
    parser.add_argument("--context", type=int, default=8192)
    parser.add_argument("--page-size", type=int, default=64, choices=(1, 2, 4, 8, 16, 32, 64, 128))
    parser.add_argument("--rounds", type=int, default=7)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if min(args.bs, args.context, args.rounds) < 1:
        print("--bs, --context and --rounds must be positive", file=sys.stderr)
        return 2
    if not torch.cuda.is_available():
        print("the host breakdown needs a CUDA device: on the CPU no call keeps a launch plan", file=sys.stderr)
        return 2
    if not kernel.triton_enabled():
        print("the Triton path is off (SGLANG_DSA_USE_TRITON_METADATA=0, or its alias SGLANG_NSA_USE_TRITON_METADATA, or no Triton): nothing to break down",
              file=sys.stderr)
        return 2
    if validation_requested(None):
        print("validation mode is on (SGLANG_DSA_METADATA_VALIDATE, or its alias SGLANG_NSA_METADATA_VALIDATE): every call would sync", file=sys.stderr)
        return 2
    try:
        named = pieces(args.bs, args.context, args.page_size)
    except RuntimeError as error:
        # A launch hook (a profiler) or a Triton laid out otherwise leaves no direct launch to time.
        print(f"nothing to break down: {error}", file=sys.stderr)
        return 2
    heading = (
        f"host breakdown on {torch.cuda.get_device_name()}; torch {torch.__version__}, triton {triton.__version__}; "
        f"bs {args.bs}, context {args.context}, page_size {args.page_size}, ragged extend lengths"
    )
    figures = measure(named, args.rounds)
    text = report(figures, heading)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "host_breakdown.txt").write_text(text + "\n")
    record = {
        "heading": heading,
        "blocks": BLOCKS,
        "calls_per_block": HOST_CALLS_PER_BLOCK,
        "warmup_calls": WARMUP_CALLS,
        "us": figures,
        "whole_over_empty": per_round(figures, WHOLE, EMPTY),
        "key_over_whole": per_round(figures, KEY, WHOLE),
    }
    (args.out / "host_breakdown.json").write_text(json.dumps(record, indent=1) + "\n")
    plot(figures, heading, args.out / "host_breakdown.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
