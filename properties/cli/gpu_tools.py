"""The tools that measure a variant on a GPU: compute-sanitizer's checks on tight buffers, the
Triton compilations it makes, the tables past 2^31 cells, and the suite's own throughput."""

from __future__ import annotations

import json
import sys

from properties.options import (
    budget_parent,
    forward_mode_parent,
    judged_parents,
    load,
    loaded,
    named,
    names,
    profile_parent,
    variant_parent,
)
from properties.harness import SHIPPED_KERNELS, prepare_runtime
from properties.memcheck import TOOLS
from properties.memcheck import parents as memcheck_parents
from properties.past_int32 import parents as past_int32_parents
from properties.profiles import HYPOTHESIS_PROFILES, SEARCHING_PROFILES
from reference.modes import DEFAULT_FORWARD_MODE, FORWARD_MODES


def add(commands) -> None:
    check = commands.add_parser(
        "memcheck", help="a variant's calls on tight buffers under compute-sanitizer memcheck", parents=memcheck_parents(),
    )
    check.add_argument("--tool", default="memcheck", choices=TOOLS, help="compute-sanitizer's tool")
    check.set_defaults(handler=memcheck)

    count = commands.add_parser(
        "compiles", help="Triton compilations a variant makes over bs 1..4096, max_seqlen_k and totals",
        parents=[variant_parent(), *judged_parents()],
    )
    count.set_defaults(handler=compiles)

    wide = commands.add_parser(
        "past-int32", help="the tables past 2^31 cells (a gather and a store past the int32 offsets) in a process of their own",
        parents=past_int32_parents(),
    )
    wide.set_defaults(handler=past_int32)

    speed = commands.add_parser(
        "throughput", help="differential examples per second, split by phase",
        parents=[
            variant_parent(), profile_parent(),
            forward_mode_parent("all", help_text=f"the forward mode whose contract is timed (default: {DEFAULT_FORWARD_MODE}; all: each)"),
            budget_parent(200, "generated cases per timing"),
        ],
    )
    speed.add_argument(
        "--hypothesis-profiles", type=names(HYPOTHESIS_PROFILES, "Hypothesis profile"), default=tuple(SEARCHING_PROFILES), metavar="NAME,...",
        help=f"the Hypothesis profiles to time (default: the searching ones, {','.join(SEARCHING_PROFILES)})",
    )
    speed.add_argument("--json", metavar="FILE")
    speed.set_defaults(handler=throughput)


def memcheck(args) -> int:
    from properties.memcheck import check_memory

    if (spec_mode := named(args)) is None:
        return 2
    spec, mode = spec_mode
    result = check_memory(
        spec, args.convention, max_examples=args.max_examples, domain=args.domain, tool=args.tool, forward_mode=mode, profile=args.profile,
    )
    if result.errors is None:
        print(f"{args.tool} not run: {result.reason}", file=sys.stderr)
        return 2
    print(f"{args.tool} {'passed' if result.passed else 'FAILED'}: {spec} ({mode}): {result.reason}")
    return 0 if result.passed else 1


def compiles(args) -> int:
    from properties.compiles import count_compiles

    device = prepare_runtime()
    if device.type != "cuda":
        print("compile count not run: no CUDA device (the interpreter compiles nothing)", file=sys.stderr)
        return 2
    variant = load(args)
    if variant is None:
        return 2
    result = count_compiles(variant.fill, device, variant.forward_mode)
    if result is None:
        print("compile count not run: this Triton keeps no per-function kernel caches to count", file=sys.stderr)
        return 2
    print(f"compilations of {variant.name} ({variant.forward_mode}): {result.describe()}")
    return 0 if result.passed else 1


def past_int32(args) -> int:
    from properties.past_int32 import check

    if (spec_mode := named(args)) is None:
        return 2
    spec, mode = spec_mode
    return check(spec, args.convention, mode)


def throughput(args) -> int:
    from properties.profiles import register_profiles
    from properties.throughput import describe, measure_cold_and_warm

    device = prepare_runtime()
    modes = tuple(FORWARD_MODES) if args.forward_mode == "all" else (args.forward_mode or DEFAULT_FORWARD_MODE,)
    variants = []
    for mode in modes:
        if (variant := loaded(args.variant or SHIPPED_KERNELS[mode], "contract", mode, args.profile)) is None:
            return 2
        variants.append(variant)
    register_profiles()
    results = [r for variant in variants for profile in args.hypothesis_profiles for r in measure_cold_and_warm(variant, device, profile, args.max_examples)]
    for result in results:
        print(describe(result))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"device": str(device), "variants": [variant.name for variant in variants], "results": results}, out, indent=2)
    return 0
