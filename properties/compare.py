"""Cell-by-cell comparison of two sets of buffers, with a report a person can act on.

Every differing cell is located in the contract's terms: which token and request it belongs to, or
that it lies outside what the contract writes (padding, element 0 of a cu buffer, columns past
max_seqlen_k), which is always a bug of its own kind. Under a live-prefix engine profile a page-table
cell past its row's kv length is a tail cell: it may keep its old contents or hold the full-width
value, and a report of one says "tail" and what it held before.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from properties.cases import ReplayCase
from reference.buffers import MetadataBuffers

SHOWN_CELLS = 6


@dataclass(frozen=True)
class Mismatch:
    buffer: str
    cells: int
    outside_contract: int
    first: tuple[tuple[tuple[int, ...], int, int, str], ...]  # (index, expected, got, where)
    tail: int = 0  # of the cells, those in the tail of a live-prefix row (neither old nor full-width)
    old_known: bool = True  # whether the buffers' contents before the call were given to judge the tail by

    def describe(self) -> str:
        lines = [f"{self.buffer}: {self.cells} cell(s) differ"]
        if self.outside_contract:
            lines[0] += f", {self.outside_contract} of them outside what the contract writes"
        if self.tail and self.old_known:
            lines[0] += f", {self.tail} of them tail cells holding neither their old contents nor the full-width value"
        elif self.tail:
            # Without the contents before the call, a tail cell that kept them cannot be told from a wrong one.
            lines[0] += f", {self.tail} of them tail cells that differ from the full-width value: compare() was given no `before`, so keeping their old contents was not accepted"
        for index, expected, got, where in self.first:
            lines.append(f"  {self.buffer}{list(index)}: expected {expected}, got {got}  <- {where}")
        return "\n".join(lines)


def _token(case: ReplayCase, token: int) -> str:
    b, step = case.token_owner(token)
    return f"token {token} (request {b}, step {step})"


def locate(case: ReplayCase, buffer: str, index: tuple[int, ...], before: int | None = None) -> tuple[str, bool]:
    """(where the cell sits in the contract's terms, whether the contract writes it); `before` is
    what a tail cell held before the call."""
    region = case.written_region()[buffer]
    writes = all(part.start <= i < part.stop for part, i in zip(region, index))
    row, rows = index[0], region[0]
    if row < rows.start:
        return ("element 0, which the contract never writes", False)
    if row >= rows.stop:
        return (f"padding: {'row' if len(index) == 2 else 'index'} {rows.stop} on is never written", False)
    if buffer == "cache_seqlens_int32":
        return (f"request {row}", writes)
    if buffer == "cu_seqlens_k":
        return (f"prefix sum through request {row - 1}", writes)
    if buffer == "nsa_cu_seqlens_k":
        return (f"prefix sum through {_token(case, row - 1)}", writes)
    if len(index) == 1:
        return (_token(case, row), writes)
    col, width = index[1], region[1].stop
    unit, limit = ("column", "max_seqlen_k") if buffer == "page_table_1" else ("page", "ceil(max_seqlen_k / page_size)")
    past = f" past {limit}={width}" if col >= width else ""
    if writes and case.is_tail(buffer, row, col):
        kv = case.kv_lens[case.token_owner(row)[0]]
        held = "" if before is None else f" (held {before})"
        past = f", tail: at or past the row's kv length {kv} under {case.profile}, may keep its old contents{held} or the full-width value"
    return (f"{_token(case, row)}, {unit} {col}{past}", writes)


def compare(
    case: ReplayCase, expected: MetadataBuffers, got: MetadataBuffers, before: MetadataBuffers | None = None
) -> list[Mismatch]:
    """Every buffer whose cells differ, padding included; empty when all are equal. `expected` is the
    reference's full-width result; `before`, where given, the buffers under test as they stood before
    the call: a cell the contract does not write must still hold that, and a tail cell of a
    live-prefix profile may. Cells are counted with tensor ops and only the shown ones are located:
    a defect that shifts every row of a large case differs in millions of cells, which a per-cell
    account would take hours to report."""
    mismatches = []
    for name, want in expected.named().items():
        have = getattr(got, name)
        if have is None or have.shape != want.shape:
            shape = None if have is None else tuple(have.shape)
            mismatches.append(Mismatch(name, want.numel(), 0, ((shape or (), -1, -1, "missing" if have is None else "shape changed"),)))
            continue
        old = None if before is None else getattr(before, name)
        written = torch.zeros(want.shape, dtype=torch.bool, device=want.device)
        written[case.written_region()[name]] = True
        # Unwritten cells keep their own old contents; written ones hold the reference's. Equal on the
        # device, nothing is read back.
        target = want if old is None else torch.where(written, want, old)
        if torch.equal(target, have):
            continue
        target, have_cpu, written = target.cpu(), have.cpu(), written.cpu()
        old = None if old is None else old.cpu()
        differ = target != have_cpu
        tail = case.tail(name, tuple(target.shape))
        if tail is not None and old is not None:
            differ &= ~(tail & (have_cpu == old))
        if not bool(differ.any()):
            continue
        outside, inside = differ & ~written, differ & written
        # Writes outside the contract lead: they are the rarer and more telling defect.
        shown = torch.cat((torch.nonzero(outside)[:SHOWN_CELLS], torch.nonzero(inside)[:SHOWN_CELLS]))[:SHOWN_CELLS]
        first = []
        for idx in shown:
            index = tuple(int(x) for x in idx)
            held = None if old is None else int(old[index])
            first.append((index, int(target[index]), int(have_cpu[index]), locate(case, name, index, held)[0]))
        tail_cells = 0 if tail is None else int((differ & tail).sum())
        mismatches.append(Mismatch(name, int(differ.sum()), int(outside.sum()), tuple(first), tail_cells, old is not None))
    return mismatches


def disagreeing_cells(case: ReplayCase, a: MetadataBuffers, b: MetadataBuffers, before: MetadataBuffers, full_width: MetadataBuffers) -> int:
    """How many cells two results of one call differ in, leaving out the tail cells (a live-prefix
    profile's) where each holds what the profile accepts there: its old contents or the full-width
    value. Two correct variants may differ there, one skipping the tail and one writing it."""
    cells = 0
    for name, x in a.named().items():
        y = getattr(b, name)
        if y is None or y.shape != x.shape:
            cells += x.numel()
            continue
        differ = x != y
        tail = case.tail(name, tuple(x.shape))
        if tail is not None:
            old, full = getattr(before, name), getattr(full_width, name)
            tail = tail.to(x.device)
            differ &= ~(tail & ((x == old) | (x == full)) & ((y == old) | (y == full)))
        cells += int(differ.sum())
    return cells


def describe_outside_view(t: torch.Tensor, cell: int) -> str:
    """Where storage cell `cell` lies relative to the view `t`, which does not hold it."""
    offset = cell - t.storage_offset()
    if offset < 0:
        return f"{-offset} cell(s) before its first element"
    if t.dim() == 2 and t.shape[0] > 0:
        pitch, (rows, cols) = t.stride(0), t.shape
        row, col = divmod(offset, pitch)
        if row < rows:
            return f"row {row}'s padding, {col - cols} cell(s) past its last column (width {cols}, row stride {pitch})"
        return f"{offset - (rows - 1) * pitch - cols + 1} cell(s) past the end of its last row"
    return f"{offset - t.numel() + 1} cell(s) past its last element"


def report(mismatches: list[Mismatch]) -> str:
    return "\n".join(m.describe() for m in mismatches)
