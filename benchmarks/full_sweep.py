"""The whole sweep against a released SGLang's plain and KPool kernels, every forward mode, in parts
that each fit one device call, resumable: what benchmarks/README.md's targets are read from.

    python -m properties peers fetch sglang==0.5.23        (where the network is; carry the cache)
    python -m benchmarks.full_sweep --out benchmarks/results/h100-full [--sglang 0.5.23] [--parts 8k,kpool] [--forward-modes decode]
    python -m benchmarks.scoreboard benchmarks/results/h100-full

Each part is one `benchmarks.replay_metadata` run per forward mode, in `OUT/PART/`, with
`--resume`: every row is written as soon as it is timed, so a run that a device call's time limit
cuts keeps its rows, and the same command, given again, times only what is missing. A part already
complete is timed again from its kept rows in no time. Tokens per request: decode's one,
target-verify's next_n=4 and draft-extend's ragged 1..4, as SGLang's EAGLE configurations send.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

import torch

from benchmarks.replay_metadata import cli
from reference.modes import FORWARD_MODES

BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 512, 2048, 4096)
LONG_BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128)
EXTEND = {"decode": "one", "target-verify": "next_n=4", "draft-extend": "ragged"}


@dataclass(frozen=True)
class Part:
    """One part of the sweep: the options it gives `benchmarks.replay_metadata`, and why it is there."""

    why: str
    contexts: tuple[int, ...]
    batch_sizes: tuple[int, ...]
    page_sizes: tuple[int, ...] = (1, 64)
    index_kpools: tuple[int, ...] = (1,)
    padded: bool = False

    def argv(self, mode: str, version: str, out: str) -> list[str]:
        def joined(values):
            return ",".join(map(str, values))

        against = [f"{version}=sglang=={version}:{mode}", f"{version}-kpool=sglang=={version}:kpool:{mode}"]
        return [
            "--forward-mode", mode, "--extend", EXTEND[mode], "--contexts", joined(self.contexts), "--batch-sizes",
            joined(self.batch_sizes), "--page-sizes", joined(self.page_sizes), "--index-kpool", joined(self.index_kpools),
            *(["--padded"] if self.padded else []),
            *(arg for spec in against for arg in ("--against", f"{spec}@sglang-fused-{mode}")),
            "--out", out, "--resume",
        ]


PARTS = {
    "8k": Part("every batch size at an 8k context, pages of 1 and 64", (8192,), BATCH_SIZES),
    "128k": Part("a 128k context, the batch sizes whose tables fit beside the others'", (131072,), LONG_BATCH_SIZES),
    "1m": Part("a 1M-column table (SGLang's large-shape test's 1,000,003 columns) at small batch sizes", (1_000_003,), (1, 2, 4, 8)),
    "padded": Part("captured buckets whose last quarter pads them, as SGLang's graph runners pad a replay", (8192,), (8, 64, 512, 4096), padded=True),
    "kpool": Part("every KPool size SGLang enables by default (index_kpool > 1, page 64)", (8192,), (1, 8, 64, 512, 4096), (64,), (2, 4, 8, 16)),
    "kpool-128k": Part("KPool sizes at a 128k context", (131072,), (1, 8, 64, 128), (64,), (2, 4, 8, 16)),
}


def _names(text: str, known, what: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"{what}: expected a comma-separated subset of {','.join(known)}, got {text!r}")
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.full_sweep", description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the results folder; each part writes OUT/PART/")
    parser.add_argument("--sglang", default="0.5.23", help="the released SGLang whose plain and KPool kernels are timed beside ours")
    parser.add_argument("--parts", type=lambda text: _names(text, PARTS, "--parts"), default=list(PARTS),
                        help=f"which parts, in order (default all: {','.join(PARTS)})")
    parser.add_argument("--forward-modes", type=lambda text: _names(text, FORWARD_MODES, "--forward-modes"),
                        default=list(FORWARD_MODES), help="which forward modes (default all)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not torch.cuda.is_available():
        print("the sweep needs a CUDA device: its GPU figures are CUDA-graph replays", file=sys.stderr)
        return 2
    for name in args.parts:
        for mode in args.forward_modes:
            print(f"== {name} ({PARTS[name].why}), {mode}", file=sys.stderr, flush=True)
            status = cli.main(PARTS[name].argv(mode, args.sglang, f"{args.out}/{name}"))
            if status:
                return status
    return 0


if __name__ == "__main__":
    sys.exit(main())
