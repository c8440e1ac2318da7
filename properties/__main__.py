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

    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
