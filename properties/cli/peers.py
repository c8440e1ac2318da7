"""Peers: SGLang's released kernels, fetched at run time into a cache outside the repository
(properties.peers), then named by short specs such as sglang==0.5.23:kpool:decode."""

from __future__ import annotations

import sys
from pathlib import Path


def add(commands) -> None:
    from properties.peers import SPEC_FORM, cache_root

    peers = commands.add_parser(
        "peers", help=f"fetch SGLang's released DSA metadata kernels into {cache_root()} ($DSA_PEERS_CACHE), to name them as {SPEC_FORM}",
    )
    verbs = peers.add_subparsers(dest="verb", required=True)
    fetch = verbs.add_parser("fetch", help="download a release's wheel (pip download --no-deps) and extract its DSA metadata kernels")
    fetch.add_argument("requirement", metavar="sglang==VERSION")
    fetch.add_argument("--wheel", metavar="FILE", help="extract from this wheel, already on disk, instead of downloading it")
    fetch.set_defaults(handler=_fetch)
    listing = verbs.add_parser("list", help="the releases and snapshots in the cache")
    listing.set_defaults(handler=_list)
    snapshot = verbs.add_parser(
        "add", help="copy a kernel file reached only by its path (an SGLang snapshot) into the cache, as snapshots/NAME/FILE",
    )
    snapshot.add_argument("name", metavar="NAME", help="the snapshot's name: b4ff2431, july or seed for the verdict table of real code")
    snapshot.add_argument("file", metavar="FILE")
    snapshot.set_defaults(handler=_add)
    verdicts = verbs.add_parser(
        "verdicts", help="gate every SGLang kernel in the cache, in every mode it has, and hold each to its expected verdicts (properties.real_code); exit 0 iff all hold",
    )
    verdicts.add_argument("--max-examples", type=int, default=10, metavar="N", help="generated cases per searching row (default 10)")
    verdicts.add_argument("--workers", type=int, default=8, metavar="N", help="kernels gated at once, each in a process of its own: SGLang's compile once per batch size, on the host's cores (default 8)")
    verdicts.add_argument("--json", metavar="FILE", help="write every kernel's row statuses as JSON")
    verdicts.add_argument("--match", default="", metavar="TEXT", help="only the records whose `kernel [mode]` holds TEXT (any case), e.g. 'July' or 'draft-extend'")
    verdicts.set_defaults(handler=_verdicts)


def _fetch(args) -> int:
    from properties.host import BadVariant
    from properties.peers import KERNELS, fetch

    try:
        folder = fetch(args.requirement, wheel=Path(args.wheel) if args.wheel else None)
    except BadVariant as error:
        print(error, file=sys.stderr)
        return 2
    version = args.requirement.partition("==")[2]
    print(f"{args.requirement}: its DSA metadata kernels are in {folder}")
    for kernel_set, modes in KERNELS.items():
        for mode in modes:
            print(f"  sglang=={version}:{'' if kernel_set == 'plain' else kernel_set + ':'}{mode}")
    return 0


def _add(args) -> int:
    from properties.host import BadVariant
    from properties.peers import add_snapshot

    try:
        print(f"{args.name}: {add_snapshot(args.name, Path(args.file))}")
    except BadVariant as error:
        print(error, file=sys.stderr)
        return 2
    return 0


def _verdicts(args) -> int:
    from properties.real_code import JUDGED_ROWS, judge_all

    done = []

    def said(judged) -> None:
        done.append(judged)
        if args.json:
            _write_verdicts(Path(args.json), done)
        record = judged.record
        verdict = "as expected" if not judged.differences else "DIFFERS: " + "; ".join(judged.differences)
        statuses = " ".join(f"{row}={judged.statuses[row][0]}" for row in JUDGED_ROWS if row in judged.statuses)
        print(f"{record.kernel} [{record.forward_mode}, {record.convention}, {record.profile}] on {judged.device} in {judged.seconds:.0f} s: {verdict}\n  {statuses}", flush=True)

    judged, missing = judge_all(args.max_examples, args.workers, on_judged=said, match=args.match)
    for record, why in missing:
        print(f"{record.kernel} [{record.forward_mode}]: not run: {why}")
    wrong = [j for j in judged if j.differences]
    print(f"\n{len(judged)} kernel(s) gated, {len(wrong)} differ from their expected verdicts, {len(missing)} not in the cache")
    return 1 if wrong or not judged else 0


def _write_verdicts(path: Path, judged) -> None:
    import json

    path.write_text(json.dumps([
        {"kernel": j.record.kernel, "source": j.record.source, "forward_mode": j.record.forward_mode, "convention": j.record.convention,
         "profile": j.record.profile, "device": j.device, "seconds": round(j.seconds, 1), "statuses": j.statuses, "differences": j.differences}
        for j in judged
    ], indent=1))


def _list(args) -> int:
    from properties.peers import cache_root, fetched

    releases = fetched()
    if not releases:
        print(f"no release in {cache_root()}: python -m properties peers fetch sglang==VERSION")
    for version, manifest in releases:
        print(f"sglang=={version}: {manifest['wheel']} (sha256 {manifest['sha256'][:16]}...)")
    for file in sorted((cache_root() / "snapshots").glob("*/*.py")):
        print(f"snapshot {file.parent.name}: {file}")
    return 0
