"""Triage: rerun reproducers (each judged in the forward mode and launch form it records), and find
where two variants disagree."""

from __future__ import annotations

from properties.options import (
    CONVENTION_HELP,
    SPEC_FORMS,
    budget_parent,
    convention_parent,
    judged_parents,
    load,
    loaded,
    profile_parent,
    seed_parent,
    shrink_parent,
    variant_parent,
)
from properties.harness import SHIPPED_KERNELS, load_variant, prepare_runtime
from reference.modes import DEFAULT_FORWARD_MODE


def add(commands) -> None:
    rep = commands.add_parser(
        "replay", help="rerun JSON reproducers, each in the forward mode it records; exit 1 on any mismatch",
        parents=[
            variant_parent(f"judge this instead of the recorded variant, {SPEC_FORMS}"),
            convention_parent(None, f"{CONVENTION_HELP}; default: the recorded one"),
            profile_parent("judge by this engine profile's contract (default: the one each reproducer records)"),
        ],
    )
    rep.add_argument("files", nargs="+", metavar="FILE")
    rep.set_defaults(handler=replay)

    dif = commands.add_parser(
        "diff", help="where two variants disagree on the same generated inputs",
        parents=[
            variant_parent(f"the implementation compared, {SPEC_FORMS}", required=True), *judged_parents(),
            budget_parent(100, "generated cases"), seed_parent(), shrink_parent(60.0, "time box for shrinking what was found"),
        ],
    )
    dif.add_argument("--against", metavar="SPEC", help=f"what it is compared with, {SPEC_FORMS} (default: the shipped kernel of the forward mode)")
    dif.set_defaults(handler=diff)


def replay(args) -> int:
    from properties.failures import first_line
    from properties.faults import fault_kind
    from properties.gate import clip_lines
    from properties.reproducer import load as load_record
    from properties.reproducer import replay as replay_record

    device = prepare_runtime()
    failed = 0
    for path in args.files:
        record = load_record(path)
        spec = args.variant or record["variant"]
        convention = args.convention or record.get("convention", "contract")
        recorded_mode = record.get("forward_mode", DEFAULT_FORWARD_MODE)
        if args.profile:
            # Judged by another engine's contract than the one recorded.
            record = {**record, "case": {**record["case"], "profile": args.profile}}
        try:
            still_wrong = replay_record(record, load_variant(spec, convention, recorded_mode, args.profile).fill, device)
        except Exception as error:
            failed += 1
            kind = fault_kind(error)
            raised = f"a CUDA fault ({kind}): {first_line(error)}" if kind else f"{type(error).__name__}: {error}"
            print(clip_lines(f"{path}: {spec} raised {raised}"))
            continue
        if still_wrong:
            failed += 1
            where = record["environment"]["device"]
            print(f"{path}: MISMATCH ({spec}; recorded as broken {record['law']} on {where}, domain {record.get('domain', 'strict')})")
            print(still_wrong)
        else:
            print(f"{path}: ok ({spec})")
    print(f"\n{len(args.files) - failed} of {len(args.files)} reproducer(s) pass")
    return 1 if failed else 0


def diff(args) -> int:
    from properties.triage import find_disagreement

    device = prepare_runtime()
    variant = load(args)
    if variant is None:
        return 2
    against = loaded(args.against or SHIPPED_KERNELS[variant.forward_mode], "contract", variant.forward_mode, variant.profile)
    if against is None:
        return 2
    tried, found = find_disagreement(
        variant, against, device, max_examples=args.max_examples, seed_value=args.seed, shrink_seconds=args.shrink_seconds
    )
    if found is None:
        print(f"{variant.name} and {against.name} agree on all {tried} generated cases")
        return 0
    print(found.describe(variant.name, against.name))
    return 1
