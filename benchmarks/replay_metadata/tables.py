"""The text tables of a run (the main table, page-table bandwidth, capacity) and its plot."""

from __future__ import annotations

from pathlib import Path

from benchmarks.replay_metadata.measure import CAPACITY_CONTEXT, CAPACITY_WIDE
from benchmarks.replay_metadata.peers import AGAINST_LIMIT_MS, AGAINST_PREFIX, COPY, EAGER, EMPTY, KERNEL, RESIDENT
from benchmarks.replay_metadata.timing import host_ratio
from properties.harness import Variant
from reference.engines import DEFAULT_PROFILE


def render(header: list[str], lines: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    return ["  ".join(c.rjust(w) for c, w in zip(cells, widths)) for cells in [header, *lines]]


def us_cell(figure: dict | None) -> str:
    if figure is None:
        return "-"
    return f"{figure['us']:.1f}" + ("w" if figure.get("method") == "wall" else "")


def ratio(a: dict | None, b: dict | None) -> str:
    return "-" if a is None or b is None else format(a["us"] / b["us"], ".3g")


def host_ratio_cell(a: dict | None, b: dict | None) -> str:
    value = host_ratio(a, b)
    return "-" if value is None else format(value, ".3g")


def format_table(rows: list[dict], against: dict[str, Variant]) -> str:
    others = [AGAINST_PREFIX + label for label in against]
    names = [KERNEL, RESIDENT, EAGER, EMPTY, COPY] + others
    gpu_names = {COPY: "floor"}
    header = (
        ["page", "kpool", "context", "lengths", "extend", "bs", "padding", "tokens"]
        + [f"gpu:{gpu_names.get(n, n)}" for n in names]
        + [f"host:{n}" for n in names if n != COPY]
        + ["kernel/floor", "resident/kernel"]
        + [f"kernel/{label}" for label in against]
        + ["host kernel/empty", "host eager/kernel"]
    )
    lines = []
    for r in rows:
        gpu, host = r["gpu"], r["host"]
        line = [str(r["page_size"]), str(r.get("index_kpool", 1)), str(r["context"]), r.get("lengths", "half"), r["extend"], str(r["bs"]),
                str(r.get("padding", 0)), str(r["total_tokens"])]
        line += [us_cell(gpu.get(n)) for n in names] + [us_cell(host.get(n)) for n in names if n != COPY]
        line += [ratio(gpu[KERNEL], gpu.get(COPY)), ratio(gpu[RESIDENT], gpu[KERNEL])]
        line += [ratio(gpu[KERNEL], gpu.get(name)) for name in others]
        line += [host_ratio_cell(host[KERNEL], host[EMPTY]), host_ratio_cell(host[EAGER], host[KERNEL])]
        lines.append(line)
    profile = rows[0].get("profile", DEFAULT_PROFILE) if rows else DEFAULT_PROFILE
    legend = [
        "us per call. gpu: calls captured 20-100 to a CUDA graph, median over replays of replay time / calls;",
        "  'w': host wall per call with the device synced (the call syncs with the host, so no graph can hold it);",
        f"  floor: a device copy reading and writing the bytes the {profile} profile makes the mode move, timed the same way;",
        "  empty: an empty Triton kernel. host: median over blocks of block wall time / calls, in rounds that take every",
        "  implementation in turn; a host ratio is the median over rounds of the ratio within a round.",
    ]
    legend += [f"  {AGAINST_PREFIX}{label} = {v.spec} ({v.convention})" for label, v in against.items()] or ["  against: none (--against SPEC)"]
    if against:
        legend.append(
            f"  an against call over {AGAINST_LIMIT_MS:.0f} ms is timed by wall clock, 3 calls ('w'), and left out ('-') "
            "at larger bs of the same page, context and extend"
        )
    return "\n".join(legend + render(header, lines))


def format_bandwidth(bandwidth: list[dict]) -> str:
    lines = ["page-table bandwidth (kernel vs a device copy reading and writing the same bytes, both in-graph):"]
    for b in bandwidth:
        lines.append(
            f"  page_size={b['page_size']} context={b['context']} bs={b['bs']} bytes={b['bytes']}: "
            f"kernel {b['kernel_gb_per_s']:.0f} GB/s ({b['kernel_gpu_us']:.1f} us), "
            f"copy {b['copy_gb_per_s']:.0f} GB/s ({b['copy_gpu_us']:.1f} us), ratio {b['kernel_over_copy']:.2f}"
        )
    return "\n".join(lines)


def format_capacity(capacity: list[dict]) -> str:
    narrow, wide = f"@{CAPACITY_CONTEXT}", f"@{CAPACITY_WIDE}"
    header = ["page", "bs", "tokens", f"resident{narrow}", f"resident{wide}", f"kernel{wide}",
              f"res{wide}/res{narrow}", f"res{wide}/kernel{wide}"]
    lines = [
        [str(c["page_size"]), str(c["bs"]), str(c["total_tokens"])]
        + [f"{c[key]:.1f}" for key in ("resident_narrow_gpu_us", "resident_wide_gpu_us", "kernel_wide_gpu_us")]
        + [f"{c[key]:.3g}" for key in ("resident_wide_over_resident_narrow", "resident_wide_over_kernel_wide")]
        for c in capacity
    ]
    title = (
        f"capacity: GPU us in-graph, context {CAPACITY_CONTEXT}, buffers and req_to_token of {CAPACITY_CONTEXT} "
        f"or {CAPACITY_WIDE} columns; kernel is host-sized (max_seqlen_k={CAPACITY_CONTEXT})"
    )
    return "\n".join([title] + render(header, lines))


def plot(rows: list[dict], path: Path, title: str) -> bool:
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    groups = sorted({(r["page_size"], r.get("lengths", "half"), r["extend"]) for r in rows})
    contexts = sorted({r["context"] for r in rows})
    fig, axes = plt.subplots(
        len(groups), 2 * len(contexts), squeeze=False, figsize=(4.8 * 2 * len(contexts), 3.8 * len(groups))
    )
    for i, (page_size, lengths, extend) in enumerate(groups):
        for j, context in enumerate(contexts):
            panel = sorted(
                (r for r in rows if (r["page_size"], r.get("lengths", "half"), r["extend"], r["context"]) == (page_size, lengths, extend, context)),
                key=lambda r: r["bs"],
            )
            sizes = [r["bs"] for r in panel]
            for k, kind in enumerate(("gpu", "host")):
                ax = axes[i][2 * j + k]
                for name in panel[0][kind]:
                    points = [(r["bs"], r[kind][name]) for r in panel if name in r[kind]]
                    wall = points[0][1].get("method") == "wall"
                    label = ("floor" if kind == "gpu" and name == COPY else name) + (" (host wall)" if wall else "")
                    ax.plot([b for b, _ in points], [f["us"] for _, f in points], marker="o",
                            linestyle="--" if wall else "-", label=label)
                ax.set_xscale("log", base=2)
                ax.set_yscale("log")
                ax.set_xticks(sizes, [str(s) for s in sizes], fontsize="x-small")
                ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
                ax.set_title(f"{kind}: page {page_size}, context {context}, {lengths}, {extend}", fontsize="small")
                ax.set_xlabel("batch size")
                ax.set_ylabel("us per call (in-graph)" if kind == "gpu" else "host us per call")
                ax.grid(True, which="both", alpha=0.3)
                ax.legend(fontsize="x-small")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
