"""Command-line tools of the suite: `python -m properties COMMAND --help`. Every command takes
`--forward-mode decode|target-verify|draft-extend` (draft-extend by default, or the mode the
convention implies); `--variant` defaults to the shipped kernel of that mode.

  campaign / fuzz   the contract properties against a variant (default: the shipped kernel)
  replay            rerun JSON reproducers and report every mismatch
  diff              where two variants disagree, and which one the reference sides with
  mutants           run the suite against every planted-defect variant
  throughput        differential examples per second, split by phase
  gate              every property family against a variant, as a scorecard of verdicts
  memcheck          a variant's calls on tight buffers under compute-sanitizer (GPU)
  compiles          Triton compilations a variant makes as bs, max_seqlen_k and totals vary (GPU)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from properties.cases import DOMAINS
from properties.gate import MAX_SLOWDOWN, ROW_TIMEOUT_S
from properties.gate_rows import required_help
from properties.harness import DEFAULT_DOMAIN, MODES, SHIPPED_KERNELS, prepare_runtime
from properties.memcheck import EXAMPLES as MEMCHECK_EXAMPLES
from properties.conventions import CONVENTIONS
from reference.engines import DEFAULT_PROFILE, ENGINE_PROFILES
from reference.modes import FORWARD_MODES


def _gpu_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _load(args):
    """The variant the command names, through its convention; None, after one line on stderr, where
    it cannot be loaded."""
    from properties.harness import BadVariant, load_variant, variant_forward_mode

    try:
        mode = variant_forward_mode(args.convention, args.forward_mode)
        return load_variant(args.variant or SHIPPED_KERNELS[mode], args.convention, mode, args.profile)
    except BadVariant as error:
        print(error, file=sys.stderr)
        return None


def fuzz(args) -> int:
    import hashlib

    from properties.gpus import visible_gpus
    from properties.harness import in_mode
    from properties.laws import CONTRACT_LAWS
    from properties.profiles import example_database

    prepare_runtime()
    variant = _load(args)
    if variant is None:
        return 2
    if in_mode(variant, args.mode, args.domain) is None:
        print(f"{variant.name} does not declare the {args.mode} mode", file=sys.stderr)
        return 2
    laws = CONTRACT_LAWS if not args.laws else tuple(law for law in CONTRACT_LAWS if law.__name__ in args.laws)
    args.variant, args.forward_mode = variant.spec, variant.forward_mode
    database = None
    if args.database is not None:
        # Runners that judge something else (another variant, mode or set of laws) would find this
        # campaign's failures passing and delete them from a shared database.
        judged = " ".join([variant.name, variant.forward_mode, variant.profile, args.mode, args.domain, *(law.__name__ for law in laws)])
        try:
            database = example_database(args.database, namespace=hashlib.sha256(judged.encode()).hexdigest()[:16])
        except ImportError:
            print(f"--database {args.database}: a Redis example database needs the redis package (pip install redis)", file=sys.stderr)
            return 2
        except ValueError as error:
            print(f"--database {args.database}: {error}", file=sys.stderr)
            return 2

    count = _gpu_count()
    # The caller's CUDA_VISIBLE_DEVICES may list GPUs that this machine lacks; torch counted those it found.
    gpus = visible_gpus(os.environ.get("CUDA_VISIBLE_DEVICES"), lambda: count)[:count]
    workers = args.workers or max(1, len(gpus))
    if gpus and workers > len(gpus):
        print(
            f"--workers {workers} would put two workers on one of the GPU(s) {','.join(gpus)}; use at most {len(gpus)}",
            file=sys.stderr,
        )
        return 2
    if workers > 1 and args.worker_index is None:
        return _fuzz_sharded(args, workers, gpus)
    return _fuzz_one(args, variant, laws, database)


def _fuzz_one(args, variant, laws, database) -> int:
    from properties.campaign import run_campaign
    from properties.reproducer import environment, to_json, write

    device = prepare_runtime()
    where = "cpu"
    if device.type == "cuda":
        where = f"GPU {os.environ.get('CUDA_VISIBLE_DEVICES', '0').split(',')[0]}: {environment(device)['device']}"
    shard = "" if args.worker_index is None else f"[worker {args.worker_index} on {where}] "

    def say(line: str, after_progress: bool = False) -> None:
        # In one write: the workers of a sharded run share one stdout, and must not split each other's lines.
        sys.stdout.write(("\n" if after_progress else "") + f"{shard}{line}\n")
        sys.stdout.flush()

    say(f"differential campaign: {variant.name} ({variant.forward_mode}, {args.mode}, domain {args.domain}, profile {variant.profile}) against the reference on {where}")
    say("laws: " + ", ".join(law.__name__ for law in laws))
    reproducers = {}

    def keep(failure) -> None:
        say(f"FAILED {failure.law}: {failure.message.splitlines()[0]}", after_progress=True)
        if args.corpus:
            record = to_json(
                failure.case, variant=variant.spec, law=failure.law, message=failure.message, device=device, mode=args.mode,
                convention=variant.convention,
            )
            reproducers[failure.fingerprint()] = str(write(Path(args.corpus), record))
            say(f"reproducer: {reproducers[failure.fingerprint()]}")

    coverage, failures = run_campaign(
        variant,
        device,
        max_examples=None if args.minutes else args.max_examples,
        minutes=args.minutes,
        seed_value=args.seed,
        laws=laws,
        database=database,
        on_failure=keep,
        mode=args.mode,
        domain=args.domain,
        shrink_seconds=args.shrink_seconds,
    )
    if args.summary_json:
        found = [
            {
                "fingerprint": list(failure.fingerprint()),
                "law": failure.law,
                "headlines": [line for line in failure.message.splitlines() if line and not line[0].isspace()],
                "reproducer": reproducers.get(failure.fingerprint()),
            }
            for failure in failures
        ]
        Path(args.summary_json).write_text(json.dumps({"device": where, "coverage": coverage.to_dict(), "failures": found}))
    else:
        print(coverage.summary())
        for failure in failures:
            kept = reproducers.get(failure.fingerprint())
            where_kept = f"\nreproducer: {kept}" if kept else " (--corpus DIR keeps the whole case as a JSON reproducer)"
            print(f"\nFAILED {failure.law} on {failure.case.summary()}{where_kept}\n{failure.message}")
        print(f"\n{coverage.examples} examples checked, {len(failures)} failure(s)")
    return 1 if failures else 0


def _fuzz_sharded(args, workers: int, gpus: list[str]) -> int:
    """One process per worker, each with its own seed and, when there are GPUs, its own one of the
    caller's (CUDA_VISIBLE_DEVICES); merged into one report, and one corpus that keeps a single
    reproducer of each kind of failure (Failure.fingerprint) however many workers found it."""
    import time

    from properties.campaign import Coverage
    from properties.gpus import worker_gpu

    start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        procs = []
        for index in range(workers):
            summary = Path(tmp) / f"worker-{index}.json"
            argv = [sys.executable, "-m", "properties", "fuzz", "--variant", args.variant,
                    "--seed", str(args.seed + 1000 * index), "--worker-index", str(index),
                    "--summary-json", str(summary)]
            argv += ["--minutes", str(args.minutes)] if args.minutes else ["--max-examples", str(-(-args.max_examples // workers))]
            argv += ["--shrink-seconds", str(args.shrink_seconds)]
            argv += ["--corpus", args.corpus] if args.corpus else []
            argv += ["--laws", *args.laws] if args.laws else []
            argv += ["--database", args.database] if args.database is not None else []
            argv += ["--mode", args.mode, "--convention", args.convention, "--domain", args.domain, "--forward-mode", args.forward_mode]
            argv += ["--profile", args.profile] if args.profile else []
            env = {**os.environ}
            if gpus:
                env["CUDA_VISIBLE_DEVICES"] = worker_gpu(gpus, index)
            procs.append((subprocess.Popen(argv, env=env), summary))
        codes = [proc.wait() for proc, _ in procs]
        shards = [json.loads(summary.read_text()) if summary.exists() else None for _, summary in procs]

    coverage, distinct, crashed = Coverage(), {}, []
    lines = []
    for index, (code, shard) in enumerate(zip(codes, shards)):
        if code not in (0, 1) or shard is None:
            crashed.append(index)
            where = f"GPU {worker_gpu(gpus, index)}" if gpus else "cpu"
            lines.append(f"  worker {index} on {where}: CRASHED (exit code {code}); its examples and failures are missing here")
            continue
        coverage.absorb(shard["coverage"])
        lines.append(f"  worker {index} on {shard['device']}: {shard['coverage']['examples']} examples, {len(shard['failures'])} failure(s)")
        for failure in shard["failures"]:
            kind = tuple(failure["fingerprint"])
            if kind not in distinct:
                distinct[kind] = {**failure, "workers": [index]}
                continue
            distinct[kind]["workers"].append(index)
            if failure["reproducer"] and failure["reproducer"] != distinct[kind]["reproducer"]:
                Path(failure["reproducer"]).unlink(missing_ok=True)

    print(f"\n{coverage.summary()}\n\nworkers:")
    print("\n".join(lines))
    print(
        f"\n{workers} workers, {coverage.examples} examples checked in {time.monotonic() - start:.0f}s, "
        f"{len(distinct)} distinct failure(s)" + (f", {len(crashed)} worker(s) CRASHED" if crashed else "")
    )
    for failure in distinct.values():
        found_by = ", ".join(str(index) for index in failure["workers"])
        print(f"\nFAILED {failure['law']} (found by worker {found_by}): " + "\n  ".join(failure["headlines"]))
        if failure["reproducer"]:
            print(f"  reproducer: {failure['reproducer']}")
    return 1 if distinct or crashed else 0


def replay(args) -> int:
    from properties.harness import load_variant
    from properties.reproducer import load
    from properties.reproducer import replay as replay_record

    device = prepare_runtime()
    failed = 0
    for path in args.files:
        record = load(path)
        spec = args.variant or record["variant"]
        convention = args.convention or record.get("convention", "contract")
        recorded_mode = record.get("forward_mode", "draft-extend")
        if args.profile:
            # Judged by another engine's contract than the one recorded.
            record = {**record, "case": {**record["case"], "profile": args.profile}}
        if args.forward_mode and args.forward_mode != recorded_mode:
            failed += 1
            print(f"{path}: recorded in the {recorded_mode} mode, not {args.forward_mode}")
            continue
        try:
            still_wrong = replay_record(record, load_variant(spec, convention, recorded_mode, args.profile).fill, device)
        except Exception as error:
            failed += 1
            print(f"{path}: {spec} raised {type(error).__name__}: {error}")
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
    from properties.harness import load_variant
    from properties.triage import find_disagreement

    device = prepare_runtime()
    variant = _load(args)
    if variant is None:
        return 2
    against = load_variant(args.against or SHIPPED_KERNELS[variant.forward_mode], forward_mode=variant.forward_mode, profile=variant.profile)
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
    modes = tuple(FORWARD_MODES) if args.forward_mode == "all" else (args.forward_mode or "draft-extend",)
    variants = [load_variant(args.variant or SHIPPED_KERNELS[mode], forward_mode=mode, profile=args.profile) for mode in modes]
    results = [r for variant in variants for profile in args.profiles for r in measure_cold_and_warm(variant, device, profile, args.examples)]
    for result in results:
        print(describe(result))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"device": str(device), "variants": [variant.name for variant in variants], "results": results}, out, indent=2)
    return 0


def mutants(args) -> int:
    from properties.harness import REFERENCES
    from properties.mutants import mutants_of
    from properties.mutation import hunt_all, table

    prepare_runtime()
    mode = args.forward_mode or "draft-extend"
    shipped, reference = SHIPPED_KERNELS[mode], REFERENCES[mode]
    chosen = {name: spec for name, spec in mutants_of(mode).items() if not args.only or name in args.only}
    kept = {"all": (shipped, reference), "reference": (reference,), "none": ()}[args.controls]
    controls = {name: spec for name, spec in {"(shipped kernel)": shipped, "(reference)": reference}.items() if spec in kept}
    names = {spec: name for name, spec in {**chosen, **controls}.items()}
    workers = args.workers or min(os.cpu_count() or 1, 8)
    specs = list(chosen.values()) + list(controls.values())
    hunts = []
    # Each verdict is said as it is reached, so a run stopped by a time box has still reported it.
    print(f"mutants of the {mode} mode", file=sys.stderr, flush=True)
    for h in hunt_all(specs, workers=workers, max_examples=args.max_examples, shrink_seconds=args.shrink_seconds, forward_mode=mode, profile=args.profile):
        hunts.append(h)
        control = h.spec in controls.values()
        verdict = f"killed by {h.law} ({h.mode}) on {h.size}" if h.killed else h.skipped or ("survived, as a control must" if control else "SURVIVED")
        print(f"[{len(hunts)}/{len(specs)}] {names[h.spec]}: {verdict}, {h.seconds:.1f}s", file=sys.stderr, flush=True)
    print(table(hunts, names))
    survivors = [h for h in hunts if not h.killed and not h.skipped and h.spec not in controls.values()]
    broken_controls = [h for h in hunts if h.killed and h.spec in controls.values()]
    killed = sum(h.killed for h in hunts if h.spec in chosen.values())
    skipped = sum(bool(h.skipped) for h in hunts if h.spec in chosen.values())
    elsewhere = f" ({skipped} shown only by a GPU family: not applicable on this tier)" if skipped else ""
    print(f"\n{killed}/{len(chosen) - skipped} mutants killed{elsewhere}")
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
        run.add_argument("--variant", metavar="MODULE:CALLABLE", help="default: the shipped kernel of the forward mode")
        budget = run.add_mutually_exclusive_group()
        budget.add_argument("--max-examples", type=int, default=40)
        budget.add_argument("--minutes", type=float)
        run.add_argument("--seed", type=int, default=0)
        run.add_argument("--shrink-seconds", type=float, default=30.0, help="time box for shrinking each failure found (default 30)")
        run.add_argument("--corpus", metavar="DIR", help="write each shrunk failure here as a JSON reproducer")
        run.add_argument("--laws", nargs="*", metavar="LAW", help="only these laws (default: all)")
        run.add_argument(
            "--workers", type=int,
            help="processes, each on its own GPU of CUDA_VISIBLE_DEVICES (default: one per GPU, else 1)",
        )
        run.add_argument(
            "--database", nargs="?", const="", metavar="URL_OR_DIR",
            help="replay, then save, failures in Hypothesis' example database: redis://HOST:PORT/N or a "
            "directory; given alone, HYPOTHESIS_DATABASE_URL, else HYPOTHESIS_DATABASE_DIR, else .hypothesis/examples",
        )
        run.add_argument("--mode", choices=MODES, default="host_sized", help="graph_resident: max_seqlen_k=None; static_width: equal extend lengths")
        run.add_argument("--convention", default="contract", help="how the variant is called (properties/conventions.py)")
        run.add_argument("--domain", choices=DOMAINS, default=DEFAULT_DOMAIN, help="sglang (slots >= 0, cu buffers zeroed) or strict")
        run.add_argument("--worker-index", type=int, help=argparse.SUPPRESS)
        run.add_argument("--summary-json", help=argparse.SUPPRESS)
        run.set_defaults(handler=fuzz)

    rep = commands.add_parser("replay", help="rerun JSON reproducers; exit 1 on any mismatch")
    rep.add_argument("files", nargs="+", metavar="FILE")
    rep.add_argument("--variant", metavar="SPEC", help="judge this instead of the recorded variant")
    rep.add_argument("--convention", help="call it through this convention (default: the recorded one)")
    rep.set_defaults(handler=replay)

    dif = commands.add_parser("diff", help="where two variants disagree on the same generated inputs")
    dif.add_argument("--variant", required=True, metavar="MODULE:CALLABLE")
    dif.add_argument("--against", metavar="MODULE:CALLABLE", help="default: the shipped kernel of the forward mode")
    dif.add_argument("--convention", default="contract", help=f"how --variant is called: {', '.join(CONVENTIONS)}")
    dif.add_argument("--max-examples", type=int, default=100)
    dif.add_argument("--seed", type=int, default=0)
    dif.add_argument("--shrink-seconds", type=float, default=60.0, help="time box for shrinking what was found")
    dif.set_defaults(handler=diff)

    mut = commands.add_parser("mutants", help="run the suite against every planted-defect variant")
    mut.add_argument("--only", nargs="*", metavar="NAME", help="only these mutants")
    mut.add_argument("--max-examples", type=int, default=30)
    mut.add_argument("--shrink-seconds", type=float, default=20.0)
    mut.add_argument("--workers", type=int, help="processes on the CPU (default: the cores, at most 8)")
    mut.add_argument("--controls", choices=("all", "reference", "none"), default="all",
                     help="which of the shipped kernel and the reference must survive too (default: both)")
    mut.set_defaults(handler=mutants)

    speed = commands.add_parser("throughput", help="differential examples per second, split by phase")
    speed.add_argument("--variant", metavar="MODULE:CALLABLE", help="default: the shipped kernel of the forward mode")
    speed.add_argument("--profiles", nargs="+", default=["dev", "fuzz"], help="the Hypothesis profiles to time (default: dev fuzz)")
    speed.add_argument("--examples", type=int, default=200)
    speed.add_argument("--json", metavar="FILE")
    speed.set_defaults(handler=throughput)

    gated = commands.add_parser("gate", help="every property family against a variant: a scorecard; exit 0 iff the required pass")
    gated.add_argument("--variant", metavar="SPEC", help="MODULE:CALLABLE or path/to/file.py:CALLABLE (default: the shipped kernel of the forward mode)")
    gated.add_argument("--convention", default="contract", help=f"how the variant is called: {', '.join(CONVENTIONS)}")
    gated.add_argument("--domain", default="sglang", help="sglang (slots >= 0, cu buffers zeroed) or strict")
    gated.add_argument("--require", metavar="PROP,...", help=f"the families that must pass (default: {required_help()})")
    gated.add_argument("--only", metavar="PROP,...", help="run only these families")
    gated.add_argument("--json", metavar="FILE", help="write the scorecard as JSON")
    gated.add_argument(
        "--max-slowdown", metavar="R", type=float, default=MAX_SLOWDOWN,
        help=f"the speed row fails where the variant's GPU time is over R times the baseline's in any of its cells (default {MAX_SLOWDOWN:g})",
    )
    gated.add_argument("--baseline", metavar="SPEC", help="what the speed row compares with (default: the shipped kernel of the forward mode)")
    gated.add_argument(
        "--row-timeout", metavar="S", type=float, default=ROW_TIMEOUT_S,
        help=f"each row runs in a process of its own with S seconds; one still running then fails as hung (default {ROW_TIMEOUT_S:g}; 0: every row in this process, unbounded)",
    )
    gated.add_argument(
        "--reproducers", metavar="DIR", default="dsa-reproducers",
        help="write each counterexample here as a JSON reproducer, whose path the report prints (default ./dsa-reproducers)",
    )
    effort = gated.add_mutually_exclusive_group()
    effort.add_argument("--max-examples", type=int, default=30, help="generated cases per searching family")
    effort.add_argument("--minutes", type=float, help="time shared by the searching families instead")
    gated.set_defaults(handler=gate)

    check = commands.add_parser("memcheck", help="a variant's calls on tight buffers under compute-sanitizer memcheck")
    check.add_argument("--variant", metavar="SPEC", help="default: the shipped kernel of the forward mode")
    check.add_argument("--tool", default="memcheck", choices=("memcheck", "racecheck", "synccheck", "initcheck"), help="compute-sanitizer's tool")
    check.add_argument("--convention", default="contract")
    check.add_argument("--max-examples", type=int, default=MEMCHECK_EXAMPLES, help="generated cases per mode, after the edge examples")
    check.set_defaults(handler=memcheck)

    count = commands.add_parser("compiles", help="Triton compilations a variant makes over bs 1..4096, max_seqlen_k and totals")
    count.add_argument("--variant", metavar="SPEC", help="default: the shipped kernel of the forward mode")
    count.add_argument("--convention", default="contract")
    count.set_defaults(handler=compiles)

    for sub in commands.choices.values():
        if sub is speed:
            sub.add_argument("--forward-mode", choices=(*FORWARD_MODES, "all"), help="the forward mode whose contract is timed (default: draft-extend; all: each)")
        else:
            sub.add_argument("--forward-mode", choices=FORWARD_MODES, help=FORWARD_MODE_HELP)
        sub.add_argument("--profile", metavar="NAME", help=PROFILE_HELP)
    return parser


FORWARD_MODE_HELP = "decode, target-verify or draft-extend (default: the one the convention implies, else draft-extend)"
PROFILE_HELP = (
    f"the engine profile whose contract judges the variant: {', '.join(ENGINE_PROFILES)} (default {DEFAULT_PROFILE}; "
    "replay: the one each reproducer records)"
)


def memcheck(args) -> int:
    from properties.memcheck import check_memory

    from properties.harness import BadVariant, variant_forward_mode

    try:
        mode = variant_forward_mode(args.convention, args.forward_mode)
    except BadVariant as error:
        print(error, file=sys.stderr)
        return 2
    spec = args.variant or SHIPPED_KERNELS[mode]
    result = check_memory(spec, args.convention, max_examples=args.max_examples, tool=args.tool, forward_mode=mode, profile=args.profile)
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
    variant = _load(args)
    if variant is None:
        return 2
    result = count_compiles(variant.fill, device, variant.forward_mode)
    if result is None:
        print("compile count not run: this Triton keeps no per-function kernel caches to count", file=sys.stderr)
        return 2
    print(f"compilations of {variant.name} ({variant.forward_mode}): {result.describe()}")
    return 0 if result.passed else 1


def gate(args) -> int:
    from properties.cases import DOMAINS
    from properties.gate import Gate
    from properties.gate_rows import FAMILIES, default_required

    device = prepare_runtime()
    if args.domain not in DOMAINS:
        print(f"unknown domain {args.domain!r}; known: {', '.join(DOMAINS)}", file=sys.stderr)
        return 2
    names = lambda text: tuple(name for name in (text or "").split(",") if name)  # noqa: E731
    unknown = [name for name in names(args.require) + names(args.only) if name not in FAMILIES]
    if unknown:
        print(f"unknown property {', '.join(unknown)}; known: {', '.join(FAMILIES)}", file=sys.stderr)
        return 2
    variant = _load(args)
    if variant is None:
        return 2
    required = names(args.require) or default_required(device.type == "cuda")
    judge = Gate(
        variant, device, domain=args.domain, required=required, max_examples=args.max_examples, minutes=args.minutes,
        reproducers=Path(args.reproducers), max_slowdown=args.max_slowdown, baseline=args.baseline, past_int32=True,
    )
    def say(verdict) -> None:
        first_line = verdict.detail.splitlines()[0] if verdict.detail else ""
        print(f"[{verdict.seconds:6.1f}s] {verdict.family}: {verdict.status}  {first_line}", file=sys.stderr, flush=True)

    card = judge.run(names(args.only) or FAMILIES, on_verdict=say, row_timeout=args.row_timeout or None)
    print(card.table())
    if args.json:
        Path(args.json).write_text(card.to_json() + "\n")
    return 0 if card.passed else 1


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.profile is not None and args.profile not in ENGINE_PROFILES:
        print(f"unknown engine profile {args.profile!r}; known: {', '.join(ENGINE_PROFILES)}", file=sys.stderr)
        return 2
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
