"""Where a metadata call's host time goes, in each forward mode: the whole call through SGLang's
drop-in (`kernel.sglang`, as SGLang's replay calls it) and through the public fill, each piece of
those paths alone, SGLang's released kernels called with the very same arguments, and an empty
Triton launch through Triton's public path and through the same direct launch.

    python -m benchmarks.host_breakdown --out DIR [--forward-mode all] [--bs 8] [--context 8192]
        [--page-size 64] [--index-kpool 1] [--sglang 0.5.23] [--rounds 7]

A repeated drop-in call is: its argument key (each tensor's address, each host value with its
type), the lookup, the switches (the Triton path, validation mode, a launch hook), the guard on its
tensors' dtypes, devices, shapes and strides (kernel._tensor_guard) and the kept direct launch of
the compiled kernel. A call with new arguments also builds the
buffers and the call object, runs the argument checks and plans its launch: those pieces are timed
too, as what a new signature costs once. `--sglang VERSION` adds that release's plain and KPool
kernels (`python -m properties peers fetch sglang==VERSION` first), called with the same keyword
arguments, as its backend calls them.

Each piece runs on its own, timed as the main benchmark times host calls
(`benchmarks.replay_metadata.timing.host_us`): blocks of 25 calls, the device synchronized after
each block, outside the timed span; a piece's figure is the median over 101 blocks. The rounds
interleave the pieces, and ratios are taken within a round, then their median over rounds: a
shared host's clock moves between rounds more than within one. The pieces are timed apart, so they
need not add up to the whole call to the last tenth of a microsecond. Results go to stdout and to
DIR/host_breakdown.{txt,json,png}; it asserts nothing.
"""

from __future__ import annotations

import argparse
import inspect
import json
import statistics
import sys
import textwrap
from pathlib import Path
from typing import Callable

import torch
import triton

import kernel
import kernel.sglang as drop_ins
from benchmarks.replay_metadata.cases import MAX_EXTEND, Case, make_case
from benchmarks.replay_metadata.timing import HOST_CALLS_PER_BLOCK, _empty_kernel, host_us
from kernel import _triton_launch
from kernel.call import MetadataCall, public_fills
from kernel.launch import LAUNCHER, _graph_columns, fill_signature
from kernel.validation import check_call, validation_requested
from properties.conventions import per_bs_buffers
from properties.harness import import_target
from properties.host import BadVariant
from properties.peers import KERNELS, peer_kernel
from reference.engines import KPOOL_PAGE_SIZE, kpool_supported
from reference.modes import FORWARD_MODES

WARMUP_CALLS = 200
BLOCKS = 101
# host_us shortens a piece's blocks, and stops early, where they would outlast its budget: at 60 s
# every piece keeps 101 blocks of 25 calls unless one call takes over 20 ms, which none does.
BUDGET_S = 60.0
TOPK = 2048
EXTEND = {"draft-extend": "ragged", "decode": "one", "target-verify": f"next_n={MAX_EXTEND}"}
DROP_IN = "drop-in, whole call (kernel.sglang)"
PUBLIC = "public fill, whole call (kernel.fill_*)"
EMPTY = "empty kernel, public launch"
EMPTY_DIRECT = "empty kernel, direct launch"
KEPT = "the drop-in's kept direct launch"
SWITCHES = "the switches (Triton path, validation, launch hook)"
KEY = "the public fill's plan-cache key and its plan's guard"
BUILD = "a new call: buffers and call object"
CHECKS = "a new call: argument checks (check_call)"


def sglang_arguments(case: Case, index_kpool: int) -> dict:
    """The keyword arguments SGLang's backend passes its fused kernel in the case's forward mode,
    the per-request buffers cut to bs as its per-bs graph metadata holds them, bound once."""
    buffers, bs, mode = case.buffers, case.bs, case.forward_mode
    arguments = dict(
        seq_lens=case.seq_lens,
        req_pool_indices=case.req_pool_indices,
        req_to_token=case.req_to_token,
        **per_bs_buffers(buffers, bs, case.total_tokens),
        bs=bs,
        dsa_index_topk=case.topk,
        physical_page_size=case.page_size,
        index_kpool=index_kpool,
    )
    if mode == "decode":
        return {**arguments, "max_len": case.context}
    arguments.update(seqlens_expanded=buffers.nsa_seqlens_expanded[: case.total_tokens], max_seqlen_k=case.context)
    if mode == "target-verify":
        return {**arguments, "next_n": case.next_n}
    return {
        **arguments,
        "extend_seq_lens": case.extend_seq_lens,
        "total_len": case.total_tokens,
        "max_extend_len": MAX_EXTEND,
        "max_total_len": case.total_tokens,
        "static_extend_len": False,
    }


def accepted(fn: Callable, arguments: dict) -> dict:
    """The arguments `fn` takes (0.5.23's plain decode kernel takes no index_kpool)."""
    names = inspect.signature(fn).parameters
    return {name: value for name, value in arguments.items() if name in names}


def released(version: str, mode: str, index_kpool: int) -> dict[str, Callable]:
    """SGLang `version`'s plain and KPool kernels of the mode, from the peers' cache; the KPool ones
    alone past index_kpool 1, which the plain ones do not pool."""
    kernels = {}
    for kernel_set in ("plain", "kpool") if index_kpool == 1 else ("kpool",):
        spec = f"sglang=={version}:{'kpool:' if kernel_set == 'kpool' else ''}{mode}"
        found = peer_kernel(spec)
        kernels[f"SGLang {version} {kernel_set}, whole call"] = getattr(import_target(str(found.path), spec), found.callable)
    return kernels


def pieces(mode: str, bs: int, context: int, page_size: int, index_kpool: int, sglang: str | None) -> dict[str, Callable[[], None]]:
    """Each piece of the mode's repeated call as a zero-argument callable, on the benchmark's own
    inputs; every whole call runs once first, so that its kernel is compiled and its launch kept."""
    case = make_case(page_size, context, bs, EXTEND[mode], TOPK, torch.device("cuda"), mode_name=mode)
    arguments = sglang_arguments(case, index_kpool)
    drop_in = getattr(drop_ins, KERNELS["plain"][mode][1])  # the drop-ins take SGLang's names
    drop_ins._LAUNCHES.clear()
    drop_in(**arguments)
    if len(drop_ins._LAUNCHES) != 1:
        raise RuntimeError(
            "the drop-in kept no direct launch: a launch hook is installed, or Triton's private launch API is missing or changed"
        )
    _, kept = next(iter(drop_ins._LAUNCHES.values()))
    fill_name = FORWARD_MODES[mode].fill_name
    public = case.bound(getattr(kernel, fill_name), index_kpool=index_kpool, zero_cu_heads=True)
    public()
    # The very call object the public fill builds, caught on its way to the launcher.
    calls = []
    catching = {f.__name__: f for f in public_fills(calls.append, kernel.__name__)}[fill_name]
    case.bound(catching, index_kpool=index_kpool, zero_cu_heads=True)()
    call: MetadataCall = calls[0]
    buffers = case.buffers
    signature, _ = fill_signature(call)
    plan = LAUNCHER.plans[signature]

    def key_and_guard() -> bool:
        _, tensors = fill_signature(call)
        return plan.holds(*tensors)

    def build() -> MetadataCall:
        built = drop_ins._buffers(
            buffers.page_table_1, buffers.real_page_table, page_size, cache_seqlens_int32=buffers.cache_seqlens_int32,
            cu_seqlens_k=buffers.cu_seqlens_k, nsa_seqlens_expanded=buffers.nsa_seqlens_expanded,
            nsa_cache_seqlens_int32=buffers.nsa_cache_seqlens_int32, nsa_cu_seqlens_k=buffers.nsa_cu_seqlens_k,
        )
        return call._replace(buffers=built)

    empty_pointer = case.seq_lens
    _empty_kernel[(1,)](empty_pointer)
    empty_direct = _triton_launch.DirectLaunch(_empty_kernel.warmup(empty_pointer, grid=(1,)), (1, 1), (empty_pointer,))
    named = {
        DROP_IN: lambda: drop_in(**arguments),
        PUBLIC: public,
        KEPT: kept,
        SWITCHES: drop_ins._replay_allowed,
        KEY: key_and_guard,
        BUILD: build,
        CHECKS: lambda: check_call(call, _graph_columns),
        EMPTY: lambda: _empty_kernel[(1,)](empty_pointer),
        EMPTY_DIRECT: empty_direct,
    }
    for label, release_kernel in (released(sglang, mode, index_kpool) if sglang else {}).items():
        bound = accepted(release_kernel, arguments)
        release_kernel(**bound)
        named[label] = lambda release_kernel=release_kernel, bound=bound: release_kernel(**bound)
    return named


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


def ratios(figures: dict[str, list[float]]) -> dict[str, float]:
    """Each whole call over the empty public launch, and the drop-in over each released kernel."""
    wholes = [name for name in figures if "whole call" in name]
    found = {f"{name} / empty public launch": per_round(figures, name, EMPTY) for name in wholes}
    found.update({f"drop-in / {name.removesuffix(', whole call')}": per_round(figures, DROP_IN, name)
                  for name in wholes if name.startswith("SGLang")})
    return found


def report(mode: str, figures: dict[str, list[float]]) -> str:
    width = max(map(len, figures))
    lines = [f"--- {mode}", f"{'piece':<{width}}  median us  rounds (us)"]
    for name, values in figures.items():
        lines.append(f"{name:<{width}}  {statistics.median(values):9.2f}  " + " ".join(f"{v:.2f}" for v in values))
    lines.extend(f"{name}, per round: {value:.2f}" for name, value in ratios(figures).items())
    return "\n".join(lines)


def plot(results: dict[str, dict[str, list[float]]], heading: str, path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, axes = plt.subplots(len(results), 1, figsize=(9, 3.2 * len(results)), squeeze=False)
    for ax, (mode, figures) in zip(axes[:, 0], results.items()):
        names = list(figures)[::-1]
        ax.barh(names, [statistics.median(figures[n]) for n in names])
        ax.set_title(mode, fontsize="small")
        ax.set_xlabel("host us per call (median)")
    fig.suptitle(textwrap.fill(heading, 100), fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.host_breakdown", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("benchmark-out"), help="output folder (default ./benchmark-out)")
    parser.add_argument("--forward-mode", choices=(*FORWARD_MODES, "all"), default="all", help="the mode to break down (default all)")
    parser.add_argument("--bs", type=int, default=8)
    parser.add_argument("--context", type=int, default=8192)
    parser.add_argument("--page-size", type=int, default=64, choices=(1, 2, 4, 8, 16, 32, 64, 128))
    parser.add_argument("--index-kpool", type=int, default=1, choices=(1, 2, 4, 8, 16), help="the KPool size of the sparse lengths (default 1)")
    parser.add_argument("--sglang", metavar="VERSION", help="time this release's plain and KPool kernels too, from the peers' cache")
    parser.add_argument("--rounds", type=int, default=7)
    return parser


def refusal(args) -> str | None:
    """Why the breakdown cannot run as asked, in one line; None where it can."""
    if min(args.bs, args.context, args.rounds) < 1:
        return "--bs, --context and --rounds must be positive"
    if not kpool_supported(args.index_kpool, args.page_size, TOPK):
        return f"--index-kpool {args.index_kpool} pools pages of {KPOOL_PAGE_SIZE}: give --page-size {KPOOL_PAGE_SIZE}"
    if not torch.cuda.is_available():
        return "the host breakdown needs a CUDA device: on the CPU no call keeps a launch plan"
    if not kernel.triton_enabled():
        return ("the Triton path is off (SGLANG_DSA_USE_TRITON_METADATA=0, or its alias SGLANG_NSA_USE_TRITON_METADATA, "
                "or no Triton): nothing to break down")
    if validation_requested(None):
        return "validation mode is on (SGLANG_DSA_METADATA_VALIDATE, or its alias SGLANG_NSA_METADATA_VALIDATE): every call would sync"
    return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    why = refusal(args)
    if why is not None:
        print(why, file=sys.stderr)
        return 2
    modes = FORWARD_MODES if args.forward_mode == "all" else (args.forward_mode,)
    try:
        named = {mode: pieces(mode, args.bs, args.context, args.page_size, args.index_kpool, args.sglang) for mode in modes}
    except (RuntimeError, BadVariant) as error:
        # A launch hook (a profiler), a Triton laid out otherwise or a release not fetched.
        print(f"nothing to break down: {error}", file=sys.stderr)
        return 2
    heading = (
        f"host breakdown on {torch.cuda.get_device_name()}; torch {torch.__version__}, triton {triton.__version__}; "
        f"bs {args.bs}, context {args.context}, page_size {args.page_size}, index_kpool {args.index_kpool}"
    )
    results = {mode: measure(pieces_of_mode, args.rounds) for mode, pieces_of_mode in named.items()}
    text = "\n".join([heading, *(report(mode, figures) for mode, figures in results.items())])
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "host_breakdown.txt").write_text(text + "\n")
    record = {
        "heading": heading,
        "blocks": BLOCKS,
        "calls_per_block": HOST_CALLS_PER_BLOCK,
        "warmup_calls": WARMUP_CALLS,
        "us": results,
        "ratios": {mode: ratios(figures) for mode, figures in results.items()},
    }
    (args.out / "host_breakdown.json").write_text(json.dumps(record, indent=1) + "\n")
    plot(results, heading, args.out / "host_breakdown.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
