"""Command-line tools of the suite: `python -m properties COMMAND --help`. Every command that judges
a variant takes `--forward-mode decode|target-verify|draft-extend` (draft-extend by default, or the
mode the convention implies) and, but for mutants, `--variant SPEC` (default: the shipped kernel of
the forward mode); `--convention` where the variant may be called another way than the contract's
(not throughput's, which times contract-shaped ones) and `--profile` where an engine profile's
contract judges it (not past-int32's tables); lists are comma-separated, values hyphenated.
"""

from __future__ import annotations

import argparse
import sys

from properties.cli import campaign, gate, gpu_tools, mutants, peers, triage
from properties.harness import prepare_runtime
from properties.options import Parser


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m properties", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for family in (campaign, triage, mutants, gate, gpu_tools, peers):
        family.add(commands)
    return parser


# Spellings of earlier releases: each still works, after one line on stderr naming the new one.
RENAMED_COMMANDS = {"fuzz": "campaign"}
# command -> {old option: (new option, whether the old one took a space-separated list, now comma-separated)}
RENAMED_OPTIONS = {
    "campaign": {"--mode": ("--launch", False), "--laws": ("--laws", True)},
    "throughput": {"--profiles": ("--hypothesis-profiles", True), "--examples": ("--max-examples", False)},
    "mutants": {"--only": ("--only", True)},
}


def respelled(argv: list[str]) -> list[str]:
    """`argv` in today's spellings, saying on stderr, one line each, what an old one is now."""
    argv = list(argv)
    if argv and argv[0] in RENAMED_COMMANDS:
        print(f"python -m properties {argv[0]} is now {RENAMED_COMMANDS[argv[0]]}: running that", file=sys.stderr)
        argv[0] = RENAMED_COMMANDS[argv[0]]
    renamed = RENAMED_OPTIONS.get(argv[0], {}) if argv else {}
    out, i = argv[:1], 1
    while i < len(argv):
        name, eq, value = argv[i].partition("=")
        if name not in renamed:
            out.append(argv[i])
            i += 1
            continue
        new, was_list = renamed[name]
        items = [value] if eq else []
        i += 1
        while not eq and i < len(argv) and not argv[i].startswith("-") and (was_list or not items):
            items.append(argv[i])
            i += 1
        if new != name or len(items) > 1:
            spelled = f"{new} {','.join(items)}"
            print(f"{name} {' '.join(items)} is now spelled {spelled}: reading it so", file=sys.stderr)
        out += [new, ",".join(items)] if items else [new]
    return out


def main(argv=None) -> int:
    # Before anything imports the kernel: Triton picks its interpreter as a @triton.jit function is
    # made, and parsing --only already loads the mutants, the shipped kernel with them.
    prepare_runtime()
    args = build_parser().parse_args(respelled(sys.argv[1:] if argv is None else argv))
    return args.handler(args)
