"""The targets of a sweep, read back from the benchmark's tables in one results folder.

    python -m benchmarks.scoreboard benchmarks/results/h100-live [--from-bs 32]

For every table in the folder and its subfolders (`*.txt` written by benchmarks.replay_metadata with
at least one --against column; benchmarks.full_sweep writes a folder per part):
the cells where the shipped kernel's GPU time is at or below the fastest --against column, per
forward mode, padded or not, all lengths and serving-mix alone; every slower cell, worst first;
from --from-bs up, the kernel over the floor per length mix, graph-resident over host-sized; and
host time over an empty launch. Figures come from one table each, so each ratio is one run's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

FLOOR_TARGET = 1.15  # the kernel over the live floor, from --from-bs up
HOST_TARGET = 1.3  # host time over an empty Triton launch
# Two column names of the table hold a space; they are read as one word each.
SPACED = {"host kernel/empty": "host_kernel/empty", "host eager/kernel": "host_eager/kernel"}


def read_table(path: Path) -> list[dict]:
    lines = path.read_text().splitlines()
    first = lines[0].split(";")[0]
    start = next((i for i, line in enumerate(lines) if line.split()[:1] == ["page"] and "context" in line.split()), None)
    if start is None:
        return []
    header = lines[start]
    for spaced, word in SPACED.items():
        header = header.replace(spaced, word)
    names = header.split()
    rows = []
    for line in lines[start + 1:]:
        cells = line.split()
        if len(cells) == len(names):
            # Tables written before the KPool column timed index_kpool 1 alone.
            rows.append({"forward_mode": first, "kpool": "1", **dict(zip(names, cells))})
    return rows


def partial_note(path: Path) -> str | None:
    """How much of its sweep a table holds, where a time limit cut its run (its heading says so)."""
    heading = path.read_text().partition("\n")[0]
    return heading.partition("; partial: ")[2] or None


def us(cell: str) -> float | None:
    try:
        return float(cell.rstrip("w"))
    except ValueError:
        return None  # '-': left out at this batch size


def summarize(rows: list[dict], from_bs: int) -> list[str]:
    against = sorted({name for row in rows for name in row if name.startswith("gpu:vs:")})
    if not against:
        return ["no --against column in these tables: nothing to compare with"]
    counts: dict[tuple[str, str], list[int]] = {}
    by_kpool: dict[int, list[int]] = {}
    slower, floor, resident, host = [], {}, [], []
    for row in rows:
        # The ratio columns are of the unrounded times, to three significant figures: a tie in the
        # rounded us columns is decided by them.
        ratios = [r for name in against if (r := us(row["kernel/" + name.removeprefix("gpu:vs:")])) is not None]
        key = (row["forward_mode"], "padded" if int(row["padding"]) else "unpadded")
        count = counts.setdefault(key, [0, 0, 0, 0])
        if ratios:
            ratio = max(ratios)  # over the fastest of them
            count[0] += ratio <= 1
            count[1] += 1
            kpool = by_kpool.setdefault(int(row["kpool"]), [0, 0])
            kpool[0] += ratio <= 1
            kpool[1] += 1
            if row["lengths"] == "serving-mix":
                count[2] += ratio <= 1
                count[3] += 1
            if ratio > 1:
                best = min(t for name in against if (t := us(row[name])) is not None)
                slower.append((ratio, row, us(row["gpu:kernel"]), best))
        if int(row["bs"]) >= from_bs:
            floor.setdefault(row["lengths"], []).append(us(row["kernel/floor"]))
            resident.append(us(row["resident/kernel"]))
        host.append(us(row["host_kernel/empty"]))
    out = [f"cells at or below the fastest of {', '.join(name.removeprefix('gpu:vs:') for name in against)} (all lengths; serving-mix):"]
    for (mode, padded), (at, of, mix_at, mix_of) in sorted(counts.items()):
        out.append(f"  {mode:13} {padded:8}  {at} of {of}; {mix_at} of {mix_of}")
    total = [sum(c[i] for c in counts.values()) for i in range(4)]
    out.append(f"  {'all':22}  {total[0]} of {total[1]}; {total[2]} of {total[3]}")
    out.extend(f"  index_kpool {k:<10}  {at} of {of}" for k, (at, of) in sorted(by_kpool.items()))
    out.append(f"slower cells: {len(slower)}")
    for ratio, row, ours, best in sorted(slower, key=lambda s: -s[0]):
        out.append(
            f"  {ratio:.2f}x  {row['forward_mode']} page {row['page']} kpool {row['kpool']} context {row['context']} {row['lengths']}"
            f" bs {row['bs']} padding {row['padding']}: {ours:.1f} against {best:.1f} us"
        )
    for lengths, ratios in sorted(floor.items()):
        out.append(f"kernel / floor, bs {from_bs} up, {lengths}: median {statistics.median(ratios):.2f}, {min(ratios):.2f} to {max(ratios):.2f}")
    if resident:
        out.append(f"graph-resident / host-sized, bs {from_bs} up: median {statistics.median(resident):.3f}, at most {max(resident):.3f}")
    out.append(f"host time / empty launch: median {statistics.median(host):.2f}, {min(host):.2f} to {max(host):.2f}")
    worst_floor = max((max(r) for r in floor.values()), default=None)
    out.append("targets:")
    out.append(f"  every cell at or below the fastest against column: {_met(not slower)} ({len(slower)} slower of {total[1]})")
    if worst_floor is not None:
        out.append(f"  kernel / floor at most {FLOOR_TARGET}, bs {from_bs} up: {_met(worst_floor <= FLOOR_TARGET)} (worst {worst_floor:.2f})")
    out.append(f"  host time at most {HOST_TARGET}x an empty launch: {_met(max(host) <= HOST_TARGET)} (worst {max(host):.2f})")
    return out


def _met(met: bool) -> str:
    return "met" if met else "NOT MET"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scoreboard", description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a results folder of the benchmark's .txt tables (subfolders included)")
    parser.add_argument("--from-bs", type=int, default=32, help="the least batch size of the floor and resident ratios (default 32)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # benchmarks.full_sweep writes one folder per part.
    tables = sorted(args.folder.rglob("*.txt"))
    rows = [row for path in tables for row in read_table(path)]
    if not rows:
        print(f"{args.folder}: no benchmark table found", file=sys.stderr)
        return 2
    partial = [f"partial table, {path.relative_to(args.folder)}: {note}" for path in tables if (note := partial_note(path))]
    print("\n".join([*partial, *summarize(rows, args.from_bs)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
