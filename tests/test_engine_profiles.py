"""Engine profiles: the same variants accepted and rejected as each engine's contract says.

Every rule a profile sets has a held-out variant on each side of it: the live-prefix stand-in
(tests/standins/live_prefix.py), SGLang-signature stand-ins padding with 0 and with 1
(tests/planted/padding_lengths.py), and the planted defects of the live prefix, KPool and an omitted
page_table_1. Each is judged through the gate under each profile, on the edge examples that tell the
profiles apart.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import kernel as kernel_module
from kernel.dsa_metadata import COLUMN_GROUP
from kernel.sglang import fused_dsa_decode_metadata, fused_dsa_draft_extend_metadata
from properties.cases import ReplayCase
from properties.gate import FAIL, PASS, Gate
from properties.harness import SHIPPED_KERNELS, BadVariant, load_variant, run_reference
from reference.engines import ENGINE_PROFILES, engine_profile
from reference.modes import FORWARD_MODES

ROOT = Path(__file__).resolve().parents[1]
# Padding below one (seq_len 1 and 0 under the draft width), a replay of padding alone, columns past
# every kv length, the real table alone, and KPool.
EDGES = ("padded_bucket", "extend_past_seq_len", "all_padding", "slack_max_seqlen_k", "no_page_table_1", "index_kpool")
DSA, DSV4, FULL = "sglang-dsa", "sglang-dsv4", "full-width"


def verdicts(device, spec, profile, *, convention="contract", forward_mode=None, only=("values", "laws")):
    variant = load_variant(spec, convention, forward_mode, profile)
    edges = tuple(name for name in EDGES if name in _edge_names(variant.forward_mode))
    card = Gate(variant, device, domain="sglang", required=only, max_examples=1, edges=edges).run(only)
    return {v.family: v for v in card.verdicts}, card


def _edge_names(mode_name: str) -> tuple[str, ...]:
    from properties.edges import EDGE_EXAMPLES_BY_MODE

    return tuple(EDGE_EXAMPLES_BY_MODE[mode_name])


@pytest.mark.parametrize("profile", ENGINE_PROFILES)
@pytest.mark.parametrize("mode_name", FORWARD_MODES)
def test_the_shipped_kernel_passes_under_every_profile(device, mode_name, profile):
    rows, card = verdicts(device, SHIPPED_KERNELS[mode_name], profile, forward_mode=mode_name)
    assert card.passed, card.table()
    assert f"profile {profile}" in card.table()


# (variant, convention, profile, the row it must fail or None where it must pass, what the report says)
HELD_OUT = [
    ("tests.standins.live_prefix:fill_draft_extend_metadata", "contract", DSA, None, ""),
    ("tests.standins.live_prefix:fill_draft_extend_metadata", "contract", DSV4, None, ""),
    ("tests.standins.live_prefix:fill_draft_extend_metadata", "contract", FULL, "values", "page_table_1"),
    ("tests.standins.live_prefix:fill_decode_metadata", "contract", DSA, None, ""),
    ("tests.standins.live_prefix:fill_target_verify_metadata", "contract", DSA, None, ""),
    ("tests/planted/padding_lengths.py:clamped_to_zero", "sglang-fused-draft-extend", DSA, None, ""),
    ("tests/planted/padding_lengths.py:clamped_to_zero", "sglang-fused-draft-extend", DSV4, "values", "nsa_seqlens_expanded"),
    ("tests/planted/padding_lengths.py:clamped_to_zero", "sglang-fused-draft-extend", FULL, "laws", "expanded length"),
    ("tests/planted/padding_lengths.py:clamped_to_one", "sglang-fused-draft-extend", DSA, "values", "nsa_seqlens_expanded"),
    ("tests/planted/padding_lengths.py:clamped_to_one", "sglang-fused-draft-extend", DSV4, None, ""),
    ("tests/planted/padding_lengths.py:unclamped", "sglang-fused-draft-extend", DSA, "laws", "expanded lengths [-3, -2, -1, 0]"),
    ("tests/planted/tail_written_wrong.py:fill_draft_extend_metadata", "contract", DSA, "values", "tail"),
    ("tests/planted/tail_written_wrong.py:fill_draft_extend_metadata", "contract", FULL, "values", "page_table_1"),
    ("tests/planted/last_live_column_unwritten.py:fill_draft_extend_metadata", "contract", DSA, "values", "page_table_1"),
    ("tests/planted/last_live_column_unwritten.py:fill_decode_metadata", "contract", DSV4, "laws", "live prefix"),
    ("tests/planted/kpool_unpooled.py:fill_decode_metadata", "contract", DSA, "values", "nsa_cache_seqlens_int32"),
    ("tests/planted/kpool_unpooled.py:fill_draft_extend_metadata", "contract", DSA, "laws", "KPool-"),
    ("tests/planted/kpool_unpooled.py:fill_decode_metadata", "contract", FULL, None, ""),
    ("tests/planted/page_table_1_none_as_wide.py:fill_decode_metadata", "contract", DSA, "values", "real_page_table"),
    ("tests/planted/page_table_1_none_as_wide.py:fill_decode_metadata", "contract", FULL, None, ""),
]


@pytest.mark.parametrize("spec, convention, profile, fails, says", HELD_OUT, ids=lambda v: str(v).rsplit(":", 1)[-1][:40])
def test_held_out_variants_are_judged_as_their_profile_says(device, spec, convention, profile, fails, says):
    mode = "decode" if "decode" in spec else "target-verify" if "target_verify" in spec else None
    rows, card = verdicts(device, spec, profile, convention=convention, forward_mode=mode)
    if fails is None:
        assert card.passed, card.table()
        return
    assert rows[fails].status == FAIL, card.table()
    assert says in rows[fails].detail, rows[fails].detail


def test_the_sglang_draft_extend_drop_in_pads_with_zero(device):
    """seq_len 1 under a draft width of 4: SGLang main's kernel writes 0, 0, 0, 1 (sgl-project/sglang#30378)."""
    i32 = dict(dtype=torch.int32, device=device)
    seq_lens, extend = torch.tensor([1], **i32), torch.tensor([4], **i32)
    req_to_token = torch.arange(16, **i32).view(2, 8)
    expanded, clipped = torch.full((4,), -9, **i32), torch.full((4,), -9, **i32)
    fused_dsa_draft_extend_metadata(
        seq_lens, extend, torch.tensor([0], **i32), req_to_token, torch.zeros(1, **i32), torch.zeros(2, **i32),
        torch.zeros((4, 8), **i32), expanded, clipped, torch.zeros(5, **i32), None, bs=1, total_len=4, max_seqlen_k=1,
        dsa_index_topk=2048, real_page_size=1, max_extend_len=4, max_total_len=4,
    )
    assert expanded.tolist() == [0, 0, 0, 1] and clipped.tolist() == [0, 0, 0, 1]


def test_the_decode_drop_in_without_page_table_1_writes_the_live_pages(device):
    """Page size 64 and no page_table_1, as SGLang's fused decode graphs call it: the real table gets
    each request's page of every 64th slot; nothing else is there to write."""
    i32 = dict(dtype=torch.int32, device=device)
    seq_lens = torch.tensor([130, 1, 64], **i32)
    req_to_token = (torch.arange(3 * 256, **i32).view(3, 256) * 3) + 1000
    rows = torch.tensor([2, 0, 1], **i32)
    real = torch.full((3, 4), -7, **i32)
    fused_dsa_decode_metadata(
        seq_lens, rows, req_to_token, torch.zeros(3, **i32), torch.zeros(4, **i32), None, torch.zeros(3, **i32),
        torch.zeros(4, **i32), real, bs=3, max_len=192, dsa_index_topk=2048, physical_page_size=64,
    )
    for b, kv in enumerate(seq_lens.tolist()):
        live = -(-kv // 64)
        want = torch.div(req_to_token[rows[b], ::64][:live], 64, rounding_mode="floor")
        assert torch.equal(real[b, :live], want), (b, real[b].tolist(), want.tolist())
    assert real[:, 3].tolist() == [-7, -7, -7], "a page past max_len was written"


def _mixed_lengths_case(mode_name: str, profile: str, page_size: int) -> ReplayCase:
    """Five requests of far-apart lengths (0 to 2,500) in a 3,000-column call: most page-table cells
    lie past their row's kv length, several column tiles of the interpreter's geometry deep."""
    extend = (2, 1, 3, 1, 2) if mode_name == "draft-extend" else (0,) * 5
    case = ReplayCase(
        seq_lens=(2500, 3, 0, 700, 1),
        extend_seq_lens=extend,
        req_pool_indices=(4, 0, 2, 1, 3),
        pool_size=5,
        context_len=3000,
        nsa_index_topk=64,
        page_size=page_size,
        max_seqlen_k=3000,
        forward_mode=mode_name,
        next_n=2,
        profile=profile,
        spare_cols=70,
    )
    # max(kv lengths), as a graph-resident call takes it on the device.
    return case.with_changes(max_seqlen_k=max(case.kv_lens))


def _rounded_tail(case: ReplayCase, tail: torch.Tensor) -> torch.Tensor:
    """The tail cells of page_table_1 that the shipped kernel may write: those below each token
    row's kv length rounded up to a group of the kernel's COLUMN_GROUP columns (so that Triton
    vectorizes the tile's masks), and below max_seqlen_k."""
    columns = torch.arange(tail.shape[1], dtype=torch.int64)
    rounded = torch.zeros(tail.shape, dtype=torch.bool)
    tokens = case.total_tokens
    group = COLUMN_GROUP.value
    ends = torch.clamp(-(-case.token_kv_lens() // group) * group, max=case.max_seqlen_k)
    rounded[:tokens] = columns[None, :] < ends[:, None]
    return tail & rounded


@pytest.mark.parametrize("graph_resident", [False, True], ids=["host-sized", "graph-resident"])
@pytest.mark.parametrize("page_size", [1, 64])
@pytest.mark.parametrize("mode_name", FORWARD_MODES)
def test_the_shipped_kernel_moves_only_the_live_prefix(device, mode_name, page_size, graph_resident):
    """Under a live-prefix profile the kernel leaves every tail cell (a page-table cell at or past its
    row's kv length) as it was, but for the up to three of page_table_1 that round its row's end up
    to a group of four columns, which hold what the full-width rule writes; it writes every other
    cell as the reference does. Under full-width it writes the tail cells too."""
    fill = getattr(kernel_module, FORWARD_MODES[mode_name].fill_name)
    for profile in (DSA, FULL):
        case = _mixed_lengths_case(mode_name, profile, page_size)
        options = case.options()
        if graph_resident:
            options["max_seqlen_k"] = None
        before = case.buffers(device)
        got = before.clone()
        fill(*case.inputs(device), got, **options)
        expected = run_reference(case, device).after
        for name, cells in got.named().items():
            cells, want, old = cells.cpu(), getattr(expected, name).cpu(), getattr(before, name).cpu()
            tail = case.tail(name, tuple(cells.shape)) if profile == DSA else None
            if tail is None:
                tail = torch.zeros(cells.shape, dtype=torch.bool)
            else:
                assert bool(tail.any()), f"{name}: the case has no tail cells"
            rounded = _rounded_tail(case, tail) if name == "page_table_1" else torch.zeros_like(tail)
            kept = tail & ~rounded
            assert torch.equal(cells[kept], old[kept]), f"{profile}: {int((cells != old)[kept].sum())} tail cells of {name} written"
            moved = rounded & (cells != old)
            assert torch.equal(cells[moved], want[moved]), f"{profile}: rounded tail cells of {name} hold other than the full-width value"
            wrong = int((cells != want)[~tail].sum())
            assert wrong == 0, f"{profile}: {wrong} cells of {name} differ from the reference"


def test_an_unknown_profile_is_refused_naming_the_known_ones():
    with pytest.raises(ValueError, match="unknown engine profile 'sglang'; known: sglang-dsa, sglang-dsv4, full-width"):
        engine_profile("sglang")
    with pytest.raises(BadVariant, match="known: sglang-dsa"):
        load_variant("kernel:fill_decode_metadata", forward_mode="decode", profile="vllm")
    result = subprocess.run(
        [sys.executable, "-m", "properties", "gate", "--profile", "vllm"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        "python -m properties gate: argument --profile: invalid choice: 'vllm' (choose from 'sglang-dsa', 'sglang-dsv4', 'full-width')"
    ], result.stderr


def test_the_gate_records_its_profile_in_the_scorecard_and_its_json(tmp_path):
    report = tmp_path / "card.json"
    result = subprocess.run(
        [sys.executable, "-m", "properties", "gate", "--profile", "sglang-dsv4", "--only", "inputs", "--max-examples", "1",
         "--json", str(report)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "profile sglang-dsv4" in result.stdout
    assert json.loads(report.read_text())["profile"] == "sglang-dsv4"
