"""What is timed besides the eager path: the shipped kernel, the device copies of the floor, the empty
launch and the --against variants, each under the name of its column."""

from __future__ import annotations

import re
from typing import Callable

import torch

import kernel
from benchmarks.replay_metadata.cases import Case, page_table_bytes
from benchmarks.replay_metadata.timing import _empty_kernel
from properties.harness import SHIPPED_KERNELS, Variant
from properties.peers import is_peer_spec
from reference import eager

# An --against variant slower than this per call is timed by wall clock at that batch size and left
# out at the larger ones of the same series: a per-bs loop at bs 4096 and 128k columns runs minutes.
AGAINST_LIMIT_MS = 50.0

KERNEL, RESIDENT, EAGER, EMPTY, COPY = "kernel", "resident", "eager", "empty", "copy"
AGAINST_PREFIX = "vs:"  # an --against column's name is its label behind this


def shipped(mode_name: str) -> Callable[..., None]:
    """The shipped kernel's fill of the forward mode."""
    return getattr(kernel, SHIPPED_KERNELS[mode_name].partition(":")[2])


def copies(sets: list[Case]) -> list[Callable[[], None]]:
    """The floor: a device copy reading and writing as many bytes as the mode must move (its page
    tables' reads and writes), one source and destination per input set."""
    calls = []
    for case in sets:
        src = torch.randint(0, 2**31 - 1, (max(page_table_bytes(case) // 8, 1),), dtype=torch.int32, device=case.seq_lens.device)
        calls.append(lambda src=src, dst=torch.empty_like(src): dst.copy_(src))
    return calls


def shipped_options(case: Case) -> dict:
    """How the shipped kernel is called on `case`: with its engine profile's options, and
    validate=False, so that a syncing validation mode set in the environment never reaches it."""
    host = case.host
    return {"validate": False, **host.engine.kernel_options(host.mode.pads_below_one)}


def implementations(sets: list[Case], against: dict[str, Variant]) -> dict[str, list[Callable[[], None]]]:
    """Each implementation's calls, one per input set for those a graph cycles through; the eager
    code is never captured, and the empty kernel reads nothing. The shipped kernel follows the case's
    engine profile; each --against variant is called as its convention calls it."""
    fill = shipped(sets[0].forward_mode)
    options = shipped_options(sets[0])
    calls = {
        KERNEL: [c.bound(fill, **options) for c in sets],
        RESIDENT: [c.bound(fill, resident=True, **options) for c in sets],
        EAGER: [lambda: sets[0].fill(eager.FILLS[sets[0].forward_mode])],
        EMPTY: [lambda: _empty_kernel[(1,)](sets[0].seq_lens)],
        COPY: copies(sets),
    }
    for label, variant in against.items():
        calls[AGAINST_PREFIX + label] = [lambda c=c, f=variant.fill: c.fill(f) for c in sets]
    return calls


# A column's label: a word and one '=', not the '==' of a released kernel's spec (sglang==0.5.23:decode).
_LABEL = re.compile(r"^(?P<label>[A-Za-z0-9_.+-]+)=(?!=)")


def against_spec(text: str, convention: str) -> tuple[str, str, str]:
    """(label, spec, convention) of one --against value, `[LABEL=]SPEC[@CONVENTION]`; a released
    kernel's spec without a label is labelled by its version and kernel set (0.5.23, 0.5.23-kpool)."""
    match = _LABEL.match(text)
    label, rest = (match["label"], text[match.end():]) if match else ("", text)
    spec, _, named = rest.partition("@")
    if not label and is_peer_spec(spec):
        version, _, kernel_set = spec.removeprefix("sglang==").rpartition(":")[0].partition(":")
        label = version + (f"-{kernel_set}" if kernel_set else "")
    return label or spec.rpartition(":")[2], spec, named or convention
