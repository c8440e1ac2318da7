"""The differential campaign (the suite's main job): the contract laws against a variant, on one
process or sharded over workers, each on a GPU of its own."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from properties.options import (
    LAUNCH_FORMS,
    LAUNCH_HELP,
    budget_parent,
    choice,
    domain_parent,
    judged_parents,
    load,
    names,
    seed_parent,
    shrink_parent,
    variant_parent,
)
from properties.harness import HOST_SIZED, hyphenated, prepare_runtime
from properties.laws import CONTRACT_LAWS


def add(commands) -> None:
    run = commands.add_parser(
        "campaign",
        help="the contract laws against a variant (default: the shipped kernel); failures become JSON reproducers",
        parents=[
            variant_parent(), *judged_parents(), domain_parent(), seed_parent(), shrink_parent(30.0),
            budget_parent(40, "generated cases; every one counts, failing ones and shrink steps too", minutes="search for M minutes instead"),
        ],
    )
    run.add_argument("--corpus", metavar="DIR", help="write each shrunk failure here as a JSON reproducer")
    run.add_argument(
        "--laws", type=names([law.__name__ for law in CONTRACT_LAWS], "law"), metavar="LAW,...", help="only these laws (default: all)",
    )
    run.add_argument(
        "--workers", type=int,
        help="processes, each on its own GPU of CUDA_VISIBLE_DEVICES (default: one per GPU, else 1)",
    )
    run.add_argument(
        "--database", nargs="?", const="", metavar="URL_OR_DIR",
        help="replay, then save, failures in Hypothesis' example database: redis://HOST:PORT/N or a "
        "directory; given alone, HYPOTHESIS_DATABASE_URL, else HYPOTHESIS_DATABASE_DIR, else .hypothesis/examples",
    )
    run.add_argument("--launch", type=choice(LAUNCH_FORMS), choices=LAUNCH_FORMS, default=hyphenated(HOST_SIZED), help=LAUNCH_HELP)
    run.add_argument("--worker-index", type=int, help=argparse.SUPPRESS)
    run.add_argument("--summary-json", help=argparse.SUPPRESS)
    run.set_defaults(handler=campaign)


def _gpu_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def campaign(args) -> int:
    import hashlib

    from properties.gpus import visible_gpus
    from properties.harness import in_launch_form
    from properties.profiles import example_database

    prepare_runtime()
    variant = load(args)
    if variant is None:
        return 2
    if in_launch_form(variant, LAUNCH_FORMS[args.launch], args.domain) is None:
        print(f"{variant.name} does not declare the {args.launch} launch", file=sys.stderr)
        return 2
    laws = tuple(law for law in CONTRACT_LAWS if not args.laws or law.__name__ in args.laws)
    args.variant, args.forward_mode = variant.spec, variant.forward_mode
    database = None
    if args.database is not None:
        # Runners that judge something else (another variant, mode or set of laws) would find this
        # campaign's failures passing and delete them from a shared database.
        judged = " ".join([variant.name, variant.forward_mode, variant.profile, LAUNCH_FORMS[args.launch], args.domain, *(law.__name__ for law in laws)])
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
        return _campaign_sharded(args, workers, gpus)
    return _campaign_one(args, variant, laws, database)


def _campaign_one(args, variant, laws, database) -> int:
    from properties.campaign import run_campaign
    from properties.faults import DEFAULT_FAULT_CORPUS, confirm
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

    say(f"differential campaign: {variant.name} ({variant.forward_mode}, {args.launch}, domain {args.domain}, profile {variant.profile}) against the reference on {where}")
    say("laws: " + ", ".join(law.__name__ for law in laws))
    reproducers = {}

    def keep(failure) -> None:
        say(f"FAILED {failure.law}: {failure.message.splitlines()[0]}", after_progress=True)
        if failure.fault is not None:
            # A sticky fault ends the campaign; its case is rerun in a fresh process to confirm it.
            say(confirm(failure.fault, Path(args.corpus or DEFAULT_FAULT_CORPUS)))
            reproducers[failure.fingerprint()] = failure.fault.reproducer
            say(f"reproducer: {failure.fault.reproducer}")
            return
        if args.corpus:
            record = to_json(
                failure.case, variant=variant.spec, law=failure.law, message=failure.message, device=device, mode=LAUNCH_FORMS[args.launch],
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
        launch=LAUNCH_FORMS[args.launch],
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


def _campaign_sharded(args, workers: int, gpus: list[str]) -> int:
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
            argv = [sys.executable, "-m", "properties", "campaign", "--variant", args.variant,
                    "--seed", str(args.seed + 1000 * index), "--worker-index", str(index),
                    "--summary-json", str(summary)]
            argv += ["--minutes", str(args.minutes)] if args.minutes else ["--max-examples", str(-(-args.max_examples // workers))]
            argv += ["--shrink-seconds", str(args.shrink_seconds)]
            argv += ["--corpus", args.corpus] if args.corpus else []
            argv += ["--laws", ",".join(args.laws)] if args.laws else []
            argv += ["--database", args.database] if args.database is not None else []
            argv += ["--launch", args.launch, "--convention", args.convention, "--domain", args.domain, "--forward-mode", args.forward_mode]
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
