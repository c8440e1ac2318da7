"""One benchmark case, called a few times, for Nsight Compute to profile one launch of it.

  ncu --profile-from-start off --launch-skip 2 --launch-count 1 --section SpeedOfLight --section LaunchStats \\
      --section Occupancy --section WarpStateStats python -m benchmarks.profile_case --bs 1 --context 8192

The calls run inside cudaProfilerStart/Stop, after the case is built and the fill compiled, so with
`--profile-from-start off` ncu sees only the fill's launches (a variant of several kernels: raise
--launch-count), never the sorts and permutations that build the inputs.

`--forward-mode` and `--extend` pick the mode and its tokens per request as the benchmark does.
`--impl` picks the shipped kernel (host-sized), its graph-resident mode, the floor (the device copy
of the bytes the mode must move), or any variant through a calling convention (`--against SPEC
--convention NAME`). The inputs are the benchmark's own cases
(benchmarks.replay_metadata.cases.make_case), so a profile and a table row describe the same work.
"""

from __future__ import annotations

import argparse
import sys

import torch

from benchmarks.replay_metadata.cases import LENGTHS, MODE_EXTENDS, make_case
from benchmarks.replay_metadata.peers import copies, shipped, shipped_options
from properties.harness import BadVariant, load_variant
from reference.engines import DEFAULT_PROFILE, ENGINE_PROFILES
from reference.modes import DEFAULT_FORWARD_MODE, FORWARD_MODES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_case", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--forward-mode", choices=FORWARD_MODES, default=DEFAULT_FORWARD_MODE)
    parser.add_argument("--bs", type=int, default=1)
    parser.add_argument("--context", type=int, default=8192)
    parser.add_argument("--page-size", type=int, default=64)
    parser.add_argument("--extend", help="the mode's tokens per request as the benchmark names them (default: its first)")
    parser.add_argument("--padded", action="store_true", help="the batch a captured bucket whose last quarter pads it")
    parser.add_argument("--lengths", choices=LENGTHS, default="half", help="how kv lengths spread below the context, as the benchmark draws them")
    parser.add_argument("--profile", choices=ENGINE_PROFILES, default=DEFAULT_PROFILE, help="the engine profile the shipped kernel and the floor follow")
    parser.add_argument("--topk", type=int, default=2048)
    parser.add_argument("--impl", choices=("kernel", "resident", "floor", "against"), default="kernel")
    parser.add_argument("--against", metavar="SPEC")
    parser.add_argument("--convention", default="contract")
    parser.add_argument("--calls", type=int, default=5)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    extends = MODE_EXTENDS[args.forward_mode]
    extend = args.extend or extends[0]
    if extend not in extends:
        parser.error(f"--extend: {args.forward_mode} takes one of {', '.join(extends)}, not {extend!r}")
    if not torch.cuda.is_available():
        print("profiling needs a CUDA device", file=sys.stderr)
        return 2
    fill = shipped(args.forward_mode)
    if args.impl == "against":
        try:
            fill = load_variant(args.against or "", args.convention).fill
        except BadVariant as error:
            print(f"--against: {error}", file=sys.stderr)
            return 2
    case = make_case(args.page_size, args.context, args.bs, extend, args.topk, torch.device("cuda"),
                     mode_name=args.forward_mode, padded=args.padded, lengths=args.lengths, profile=args.profile)
    floor = copies([case])[0]
    # The shipped kernel is called as the benchmark calls it; a variant as its convention calls it.
    options = {} if args.impl == "against" else shipped_options(case)
    def call():
        if args.impl == "floor":
            floor()
        else:
            case.fill(fill, resident=args.impl == "resident", **options)

    call()  # compiles, outside the profiled range
    torch.cuda.synchronize()
    with torch.cuda.profiler.profile():
        for _ in range(args.calls):
            call()
        torch.cuda.synchronize()
    return 0


if __name__ == "__main__":
    sys.exit(main())
