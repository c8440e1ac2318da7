"""Command-line tools of the suite: `python -m properties COMMAND --help`.

  campaign / fuzz   the contract properties against a variant (default: the shipped kernel)
  replay            rerun JSON reproducers and report every mismatch
  diff              where two variants disagree, and which one the reference sides with
  mutants           run the suite against every planted-defect variant
  throughput        differential examples per second, split by phase
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from properties.harness import MODES, SHIPPED_KERNEL, prepare_runtime


def _gpu_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def fuzz(args) -> int:
    gpus = _gpu_count()
    workers = args.workers or max(1, gpus)
    if gpus and workers > gpus:
        print(f"--workers {workers} would put two workers on one of the {gpus} GPU(s); use at most {gpus}", file=sys.stderr)
        return 2
    if workers > 1 and args.worker_index is None:
        return _fuzz_sharded(args, workers, gpus)
    return _fuzz_one(args)


def _fuzz_one(args) -> int:
    from properties.campaign import run_campaign
    from properties.harness import in_mode, load_variant
    from properties.laws import CONTRACT_LAWS
    from properties.profiles import example_database
    from properties.reproducer import to_json, write

    device = prepare_runtime()
    variant = load_variant(args.variant)
    if in_mode(variant, args.mode) is None:
        print(f"{variant.name} does not declare the {args.mode} mode (fill.supports_graph_resident)", file=sys.stderr)
        return 2
    laws = CONTRACT_LAWS if not args.laws else tuple(law for law in CONTRACT_LAWS if law.__name__ in args.laws)
    shard = "" if args.worker_index is None else f"[worker {args.worker_index}] "
    print(f"{shard}differential campaign: {variant.name} ({args.mode}) against the reference on {device}")
    print(f"{shard}laws: " + ", ".join(law.__name__ for law in laws))
    written = []

    def keep(failure) -> None:
        print(f"\n{shard}FAILED {failure.law}: {failure.message.splitlines()[0]}", flush=True)
        if args.corpus:
            record = to_json(
                failure.case, variant=variant.name, law=failure.law, message=failure.message, device=device, mode=args.mode
            )
            written.append(str(write(Path(args.corpus), record)))
            print(f"{shard}reproducer: {written[-1]}", flush=True)

    coverage, failures = run_campaign(
        variant,
        device,
        max_examples=None if args.minutes else args.max_examples,
        minutes=args.minutes,
        seed_value=args.seed,
        laws=laws,
        database=example_database() if args.database else None,
        on_failure=keep,
        mode=args.mode,
    )
    if args.summary_json:
        Path(args.summary_json).write_text(
            json.dumps({"coverage": coverage.to_dict(), "failures": len(failures), "reproducers": written})
        )
    else:
        print(coverage.summary())
        for failure in failures:
            print(f"\nFAILED {failure.law} on {failure.case}\n{failure.message}")
        print(f"\n{coverage.examples} examples checked, {len(failures)} failure(s)")
    return 1 if failures else 0


def _fuzz_sharded(args, workers: int, gpus: int) -> int:
    """One process per worker, each pinned to its own GPU (CUDA_VISIBLE_DEVICES) when there are
    GPUs, each with its own seed; their coverage is summed."""
    from properties.campaign import Coverage

    with tempfile.TemporaryDirectory() as tmp:
        procs = []
        for index in range(workers):
            summary = Path(tmp) / f"worker-{index}.json"
            argv = [sys.executable, "-m", "properties", "fuzz", "--variant", args.variant,
                    "--seed", str(args.seed + 1000 * index), "--worker-index", str(index),
                    "--summary-json", str(summary)]
            argv += ["--minutes", str(args.minutes)] if args.minutes else ["--max-examples", str(-(-args.max_examples // workers))]
            argv += ["--corpus", args.corpus] if args.corpus else []
            argv += ["--laws", *args.laws] if args.laws else []
            argv += ["--database"] if args.database else []
            argv += ["--mode", args.mode]
            env = {**os.environ}
            if gpus:
                env["CUDA_VISIBLE_DEVICES"] = str(index)
            procs.append((subprocess.Popen(argv, env=env), summary))
        codes = [proc.wait() for proc, _ in procs]
        coverage, failures, reproducers = Coverage(), 0, []
        for _, summary in procs:
            if summary.exists():
                shard = json.loads(summary.read_text())
                coverage.absorb(shard["coverage"])
                failures += shard["failures"]
                reproducers += shard["reproducers"]
    print(coverage.summary())
    print(f"\n{workers} workers, {coverage.examples} examples checked, {failures} failure(s)")
    for path in reproducers:
        print(f"reproducer: {path}")
    return 1 if failures or any(code not in (0, 1) for code in codes) else 0


def replay(args) -> int:
    from properties.compare import report
    from properties.harness import load_variant
    from properties.reproducer import load
    from properties.reproducer import replay as replay_record

    device = prepare_runtime()
    failed = 0
    for path in args.files:
        record = load(path)
        spec = args.variant or record["variant"]
        try:
            mismatches = replay_record(record, load_variant(spec).fill, device)
        except Exception as error:
            failed += 1
            print(f"{path}: {spec} raised {type(error).__name__}: {error}")
            continue
        if mismatches:
            failed += 1
            print(f"{path}: MISMATCH ({spec}; recorded as broken {record['law']} on {record['environment']['device']})")
            print(report(mismatches))
        else:
            print(f"{path}: ok ({spec})")
    print(f"\n{len(args.files) - failed} of {len(args.files)} reproducer(s) pass")
    return 1 if failed else 0


def diff(args) -> int:
    from properties.harness import load_variant
    from properties.triage import find_disagreement

    device = prepare_runtime()
    variant, against = load_variant(args.variant), load_variant(args.against)
    tried, found = find_disagreement(
        variant, against, device, max_examples=args.max_examples, seed_value=args.seed, shrink_seconds=args.shrink_seconds
    )
    if found is None:
        print(f"{variant.name} and {against.name} agree on all {tried} generated cases")
        return 0
    print(found.describe(variant.name, against.name))
    return 1


def throughput(args) -> int:
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m properties", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    for name, help_text in (
        ("campaign", "differential campaign of the shipped kernel (the main job; same options as fuzz)"),
        ("fuzz", "fuzz a variant with the contract properties; failures become JSON reproducers"),
    ):
        run = commands.add_parser(name, help=help_text)
        run.add_argument("--variant", default=SHIPPED_KERNEL, metavar="MODULE:CALLABLE")
        budget = run.add_mutually_exclusive_group()
        budget.add_argument("--max-examples", type=int, default=40)
        budget.add_argument("--minutes", type=float)
        run.add_argument("--seed", type=int, default=0)
        run.add_argument("--corpus", metavar="DIR", help="write each shrunk failure here as a JSON reproducer")
        run.add_argument("--laws", nargs="*", metavar="LAW", help="only these laws (default: all)")
        run.add_argument("--workers", type=int, help="processes; one per GPU at most (default: one per GPU, else 1)")
        run.add_argument("--database", action="store_true", help="use the shared Hypothesis example database")
        run.add_argument("--mode", choices=MODES, default="host_sized", help="graph_resident: max_seqlen_k=None")
        run.add_argument("--worker-index", type=int, help=argparse.SUPPRESS)
        run.add_argument("--summary-json", help=argparse.SUPPRESS)
        run.set_defaults(handler=fuzz)

    rep = commands.add_parser("replay", help="rerun JSON reproducers; exit 1 on any mismatch")
    rep.add_argument("files", nargs="+", metavar="FILE")
    rep.add_argument("--variant", metavar="MODULE:CALLABLE", help="judge this instead of the recorded variant")
    rep.set_defaults(handler=replay)

    dif = commands.add_parser("diff", help="where two variants disagree on the same generated inputs")
    dif.add_argument("--variant", required=True, metavar="MODULE:CALLABLE")
    dif.add_argument("--against", default=SHIPPED_KERNEL, metavar="MODULE:CALLABLE")
    dif.add_argument("--max-examples", type=int, default=100)
    dif.add_argument("--seed", type=int, default=0)
    dif.add_argument("--shrink-seconds", type=float, default=60.0, help="time box for shrinking what was found")
    dif.set_defaults(handler=diff)

    mut = commands.add_parser("mutants", help="run the suite against every planted-defect variant")
    mut.add_argument("--only", nargs="*", metavar="NAME", help="only these mutants")
    mut.add_argument("--max-examples", type=int, default=30)
    mut.add_argument("--shrink-seconds", type=float, default=20.0)
    mut.add_argument("--workers", type=int, help="processes on the CPU (default: the cores, at most 8)")
    mut.set_defaults(handler=mutants)

    speed = commands.add_parser("throughput", help="differential examples per second, split by phase")
    speed.add_argument("--variant", default=SHIPPED_KERNEL, metavar="MODULE:CALLABLE")
    speed.add_argument("--profiles", nargs="+", default=["dev", "fuzz"])
    speed.add_argument("--examples", type=int, default=200)
    speed.add_argument("--json", metavar="FILE")
    speed.set_defaults(handler=throughput)

    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
