"""Command-line tools of the suite: `python -m properties COMMAND --help`."""

from __future__ import annotations

import argparse
import sys

from properties.harness import SHIPPED_KERNEL, prepare_runtime


def campaign(args) -> int:
    from properties.campaign import run_campaign
    from properties.harness import load_variant
    from properties.laws import CONTRACT_LAWS

    device = prepare_runtime()
    variant = load_variant(args.variant)
    laws = CONTRACT_LAWS if not args.laws else tuple(law for law in CONTRACT_LAWS if law.__name__ in args.laws)
    print(f"differential campaign: {variant.name} against the reference on {device}")
    print("laws: " + ", ".join(law.__name__ for law in laws))
    coverage, failures = run_campaign(
        variant,
        device,
        max_examples=None if args.minutes else args.max_examples,
        minutes=args.minutes,
        seed_value=args.seed,
        laws=laws,
    )
    print(coverage.summary())
    for failure in failures:
        print(f"\nFAILED {failure.law} on {failure.case}\n{failure.message}")
    print(f"\n{coverage.examples} examples checked, {len(failures)} failure(s)")
    return 1 if failures else 0


def throughput(args) -> int:
    import json

    from properties.harness import load_variant
    from properties.profiles import register_profiles
    from properties.throughput import describe, measure_cold_and_warm

    device = prepare_runtime()
    register_profiles()
    variant = load_variant(args.variant)
    results = [r for profile in args.profiles for r in measure_cold_and_warm(variant, device, profile, args.examples)]
    for result in results:
        print(describe(result))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"device": str(device), "variant": variant.name, "results": results}, out, indent=2)
    return 0


def mutants(args) -> int:
    import os

    from properties.harness import REFERENCE
    from properties.mutants import MUTANTS
    from properties.mutation import hunt_all, table

    prepare_runtime()
    chosen = {name: spec for name, spec in MUTANTS.items() if not args.only or name in args.only}
    controls = {"(shipped kernel)": SHIPPED_KERNEL, "(reference)": REFERENCE}
    names = {spec: name for name, spec in {**chosen, **controls}.items()}
    workers = args.workers or min(os.cpu_count() or 1, 8)
    hunts = hunt_all(
        list(chosen.values()) + list(controls.values()),
        workers=workers,
        max_examples=args.max_examples,
        shrink_seconds=args.shrink_seconds,
    )
    print(table(hunts, names))
    survivors = [h for h in hunts if not h.killed and h.spec not in controls.values()]
    broken_controls = [h for h in hunts if h.killed and h.spec in controls.values()]
    killed = sum(h.killed for h in hunts if h.spec in chosen.values())
    print(f"\n{killed}/{len(chosen)} mutants killed")
    for h in broken_controls:
        print(f"CONTROL FAILED: {names[h.spec]} broke {h.law}:\n{h.message}")
    for h in survivors:
        print(f"SURVIVOR: {names[h.spec]}")
    return 1 if survivors or broken_controls else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m properties", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("campaign", help="differential campaign of a variant (default: the shipped kernel)")
    run.add_argument("--variant", default=SHIPPED_KERNEL, metavar="MODULE:CALLABLE")
    budget = run.add_mutually_exclusive_group()
    budget.add_argument("--max-examples", type=int, default=40)
    budget.add_argument("--minutes", type=float)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--laws", nargs="*", metavar="LAW", help="only these laws (default: all)")
    run.set_defaults(handler=campaign)

    speed = commands.add_parser("throughput", help="differential examples per second, split by phase")
    speed.add_argument("--variant", default=SHIPPED_KERNEL, metavar="MODULE:CALLABLE")
    speed.add_argument("--profiles", nargs="+", default=["dev", "fuzz"])
    speed.add_argument("--examples", type=int, default=200)
    speed.add_argument("--json", metavar="FILE")
    speed.set_defaults(handler=throughput)

    mut = commands.add_parser("mutants", help="run the suite against every planted-defect variant")
    mut.add_argument("--only", nargs="*", metavar="NAME", help="only these mutants")
    mut.add_argument("--max-examples", type=int, default=30)
    mut.add_argument("--shrink-seconds", type=float, default=20.0)
    mut.add_argument("--workers", type=int, help="processes on the CPU (default: the cores, at most 8)")
    mut.set_defaults(handler=mutants)

    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
