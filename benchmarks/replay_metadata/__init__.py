"""Benchmark of one forward mode's metadata fill on one GPU (draft-extend by default): the shipped
kernel, host-sized and graph-resident, against the eager reference, an empty Triton launch, a device
copy of the bytes the mode must move (the floor) and, optionally, any other implementation of the
mode's contract.

    python -m benchmarks.replay_metadata --out DIR [--forward-mode decode|target-verify|draft-extend] [--quick]
        [--batch-sizes 1,8,...] [--contexts 8192,131072] [--page-sizes 1,64] [--extend ragged,equal]
        [--lengths half,serving-mix,equal] [--profile sglang-dsa|sglang-dsv4|full-width] [--topk 2048]
        [--against [LABEL=]SPEC[@CONVENTION] ...] [--convention NAME] [--capacity]

Progress goes to stderr; the results go to stdout, the main table last, and to DIR/benchmark.txt,
DIR/benchmark.json and DIR/benchmark.png. It asserts nothing about time. The method is in
benchmarks/README.md.
"""

from benchmarks.replay_metadata.cli import build_parser, main

__all__ = ["build_parser", "main"]
