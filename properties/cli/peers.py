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
    listing = verbs.add_parser("list", help="the releases in the cache, and the short spec of each of their kernels")
    listing.set_defaults(handler=_list)


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


def _list(args) -> int:
    from properties.peers import cache_root, fetched

    releases = fetched()
    if not releases:
        print(f"no release in {cache_root()}: python -m properties peers fetch sglang==VERSION")
    for version, manifest in releases:
        print(f"sglang=={version}: {manifest['wheel']} (sha256 {manifest['sha256'][:16]}...)")
    return 0
