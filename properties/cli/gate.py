"""The gate: every row against a variant, as a scorecard of verdicts; exit 0 iff the required rows pass."""

from __future__ import annotations

import sys
from pathlib import Path

from properties.options import REQUIRE_HELP, SPEC_FORMS, budget_parent, domain_parent, judged_parents, load, rows, variant_parent
from properties.gate import MAX_SLOWDOWN, ROW_TIMEOUT_S, Gate
from properties.gate_rows import FAMILIES, default_required
from properties.harness import prepare_runtime


def add(commands) -> None:
    gated = commands.add_parser(
        "gate", help="every row against a variant: a scorecard; exit 0 iff the required rows pass",
        parents=[
            variant_parent(), *judged_parents(), domain_parent(),
            budget_parent(30, "generated cases per searching row", minutes="time shared by the searching rows instead"),
        ],
    )
    gated.add_argument("--require", type=rows, metavar="ROW,...", help=REQUIRE_HELP)
    gated.add_argument("--only", type=rows, metavar="ROW,...", help="run only these rows (default: all rows)")
    gated.add_argument("--json", metavar="FILE", help="write the scorecard as JSON")
    gated.add_argument(
        "--max-slowdown", metavar="R", type=float, default=MAX_SLOWDOWN,
        help=f"the speed row fails where the variant's GPU time is over R times the baseline's in any of its cells (default {MAX_SLOWDOWN:g})",
    )
    gated.add_argument("--baseline", metavar="SPEC", help=f"what the speed row compares with, {SPEC_FORMS} (default: the shipped kernel of the forward mode)")
    gated.add_argument(
        "--row-timeout", metavar="S", type=float, default=ROW_TIMEOUT_S,
        help=f"each row runs in a process of its own with S seconds; one still running then fails as hung (default {ROW_TIMEOUT_S:g}; 0: every row in this process, unbounded)",
    )
    gated.add_argument(
        "--reproducers", metavar="DIR", default="dsa-reproducers",
        help="write each counterexample here as a JSON reproducer, whose path the report prints (default ./dsa-reproducers)",
    )
    gated.set_defaults(handler=gate)


def gate(args) -> int:
    from properties.harness import BadVariant, entry_points

    try:
        entries = entry_points(args.variant) if args.variant else None
    except BadVariant as error:
        print(error, file=sys.stderr)
        return 2
    if entries is not None:
        return _gate_module(args, entries)
    return _gate_one(args)


def _gate_module(args, entries: list[tuple[str, str]]) -> int:
    """Every entry point of a module, each in its forward mode: one scorecard with a section per
    mode, exit 0 only if every section passes."""
    import argparse
    import json

    cards, said = [], []
    for spec, mode in entries:
        one = argparse.Namespace(**{**vars(args), "variant": spec, "forward_mode": mode, "json": None})
        if one.convention == "contract":
            one.convention = "sglang"
        print(f"=== {spec} ({mode}) ===", file=sys.stderr, flush=True)
        code, card = _gate_one(one, quiet=True)
        if card is None:
            return code
        cards.append(card)
        said.append(card.table())
    failed = [f"{card.variant} ({card.forward_mode})" for card in cards if not card.passed]
    print("\n\n".join(said))
    print(f"\n{'MODULE GATE PASSED' if not failed else 'MODULE GATE FAILED: ' + ', '.join(failed)}: {len(cards)} entry point(s) of {args.variant}")
    if args.json:
        Path(args.json).write_text(json.dumps([json.loads(card.to_json()) for card in cards], indent=1) + "\n")
    return 1 if failed else 0


def _gate_one(args, quiet: bool = False):
    device = prepare_runtime()
    variant = load(args)
    if variant is None:
        return (2, None) if quiet else 2
    required = args.require or default_required(device.type == "cuda")
    judge = Gate(
        variant, device, domain=args.domain, required=required, max_examples=args.max_examples, minutes=args.minutes,
        reproducers=Path(args.reproducers), max_slowdown=args.max_slowdown, baseline=args.baseline, past_int32=True,
    )

    def say(verdict) -> None:
        first_line = verdict.detail.splitlines()[0] if verdict.detail else ""
        print(f"[{verdict.seconds:6.1f}s] {verdict.family}: {verdict.status}  {first_line}", file=sys.stderr, flush=True)

    card = judge.run(args.only or FAMILIES, on_verdict=say, row_timeout=args.row_timeout or None)
    if quiet:
        return (0 if card.passed else 1), card
    print(card.table())
    if args.json:
        Path(args.json).write_text(card.to_json() + "\n")
    return 0 if card.passed else 1
