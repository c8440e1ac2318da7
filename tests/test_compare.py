"""The mismatch report: every differing cell counted, those outside what the contract writes counted
apart and shown first, and each shown cell located in the contract's terms. Checked against a
per-cell statement on small cases with planted corruptions, and on one large enough that a per-cell
account would not finish."""

from __future__ import annotations

import time

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from properties.compare import SHOWN_CELLS, compare, locate
from properties.edges import wide_case
from properties.harness import run_reference
from properties.strategies import replay_cases
from reference.modes import FORWARD_MODES


def filled(case):
    return run_reference(case, torch.device("cpu")).after


def per_cell(case, expected, got):
    """The report's definition, one cell at a time: (buffer, cells, outside, shown)."""
    result = []
    for name, want in expected.named().items():
        have = getattr(got, name)
        cells = [tuple(int(x) for x in idx) for idx in torch.nonzero(want != have)]
        if not cells:
            continue
        located = [(index, *locate(case, name, index)) for index in cells]
        outside = sum(1 for _, _, writes in located if not writes)
        located.sort(key=lambda cell: cell[2])
        shown = tuple((index, int(want[index]), int(have[index]), where) for index, where, _ in located[:SHOWN_CELLS])
        result.append((name, len(cells), outside, shown))
    return result


@settings(max_examples=40, deadline=None)
@given(case=st.sampled_from(tuple(FORWARD_MODES)).flatmap(lambda mode: replay_cases(mode, ("small",))), data=st.data())
def test_the_report_counts_and_locates_as_cell_by_cell(case, data):
    expected = filled(case)
    got = expected.clone()
    for name, tensor in got.named().items():
        flat = tensor.view(-1) if tensor.is_contiguous() else None
        if flat is None or flat.numel() == 0 or not data.draw(st.booleans(), label=f"corrupt {name}"):
            continue
        for cell in data.draw(st.lists(st.integers(0, flat.numel() - 1), max_size=9, unique=True), label=name):
            flat[cell] += 1
    mismatches = compare(case, expected, got)
    assert [(m.buffer, m.cells, m.outside_contract, m.first) for m in mismatches] == per_cell(case, expected, got)


def test_a_defect_in_a_million_cells_of_hundreds_of_requests_is_reported_in_seconds():
    case = wide_case(600, 16_385)
    expected = filled(case)
    got = expected.clone()
    got.page_table_1.add_(1)
    start = time.monotonic()
    [mismatch] = [m for m in compare(case, expected, got) if m.buffer == "page_table_1"]
    assert time.monotonic() - start < 10
    assert mismatch.cells == got.page_table_1.numel() > 1_000_000
    written = case.total_tokens * case.max_seqlen_k
    assert mismatch.outside_contract == mismatch.cells - written
    assert len(mismatch.first) == SHOWN_CELLS and "past max_seqlen_k" in mismatch.first[0][3]
