"""Command-line tools of the suite: `python -m properties COMMAND --help`. Every command that judges
a variant takes `--forward-mode decode|target-verify|draft-extend` (draft-extend by default, or the
mode the convention implies) and, but for mutants, `--variant SPEC` (default: the shipped kernel of
the forward mode); `--convention` where the variant may be called another way than the contract's
(not throughput's, which times contract-shaped ones) and `--profile` where an engine profile's
contract judges it (not past-int32's tables); lists are comma-separated, values hyphenated.
"""

from __future__ import annotations

import argparse

from properties.cli import campaign, gate, gpu_tools, mutants, peers, triage
from properties.harness import prepare_runtime
from properties.options import Parser


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m properties", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for family in (campaign, triage, mutants, gate, gpu_tools, peers):
        family.add(commands)
    return parser


def main(argv=None) -> int:
    # Before anything imports the kernel: Triton picks its interpreter as a @triton.jit function is
    # made, and parsing --only already loads the mutants, the shipped kernel with them.
    prepare_runtime()
    args = build_parser().parse_args(argv)
    return args.handler(args)
