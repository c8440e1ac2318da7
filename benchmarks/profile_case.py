"""One benchmark case, called a few times, for Nsight Compute to profile one launch of it.

  ncu --launch-skip 3 --launch-count 1 --section SpeedOfLight --section LaunchStats --section Occupancy \\
      --section WarpStateStats --section SchedulerStats python -m benchmarks.profile_case --bs 1 --context 8192

`--impl` picks the shipped kernel (host-sized), its graph-resident mode, or any variant through a
calling convention (`--against SPEC --convention NAME`). The inputs are the benchmark's own cases
(benchmarks.draft_extend.make_case), so a profile and a table row describe the same work.
"""

from __future__ import annotations

import argparse
import sys

import torch

import kernel
from benchmarks.draft_extend import make_case
from properties.harness import BadVariant, load_variant


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_case", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bs", type=int, default=1)
    parser.add_argument("--context", type=int, default=8192)
    parser.add_argument("--page-size", type=int, default=64)
    parser.add_argument("--extend", choices=("ragged", "equal"), default="ragged")
    parser.add_argument("--topk", type=int, default=2048)
    parser.add_argument("--impl", choices=("kernel", "resident", "against"), default="kernel")
    parser.add_argument("--against", metavar="SPEC")
    parser.add_argument("--convention", default="contract")
    parser.add_argument("--calls", type=int, default=5)
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("profiling needs a CUDA device", file=sys.stderr)
        return 2
    if args.impl == "against":
        try:
            fill = load_variant(args.against or "", args.convention).fill
        except BadVariant as error:
            print(f"--against: {error}", file=sys.stderr)
            return 2
    else:
        fill = kernel.fill_draft_extend_metadata
    case = make_case(args.page_size, args.context, args.bs, args.extend, args.topk, torch.device("cuda"))
    for _ in range(args.calls):
        case.fill(fill, resident=args.impl == "resident")
    torch.cuda.synchronize()
    return 0


if __name__ == "__main__":
    sys.exit(main())
