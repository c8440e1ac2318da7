"""A stand-in of SGLang main's live-prefix contract, in every forward mode: the reference's values,
but each page-table row written only over its live prefix, the columns below its request's kv length
(for the real table, the pages that start below it); every column past it keeps its old contents, as
SGLang's kernels leave them since sgl-project/sglang#31981 and #32109. It takes the engine profile's
padding floor and KPool size. It passes the live-prefix profiles (sglang-dsa, sglang-dsv4) and fails
full-width, whose contract writes every column below max_seqlen_k.

`live_prefix_fill` is also the frame of the planted defects of the live-prefix rule
(tests/planted/tail_written_wrong.py, tests/planted/last_live_column_unwritten.py)."""

from __future__ import annotations

import torch

from reference.eager import FILLS
from reference.modes import forward_mode


def _token_kv_lens(mode_name: str, inputs: tuple, next_n: int) -> torch.Tensor:
    """Each packed token's request's kv length (a host read: a stand-in may sync)."""
    mode = forward_mode(mode_name)
    named = dict(zip(mode.inputs, inputs))
    extend = named.get("extend_seq_lens")
    lengths = mode.request_lengths(named["seq_lens"].tolist(), None if extend is None else extend.tolist(), next_n)
    return torch.tensor([kv for kv, qo in lengths for _ in range(qo)], dtype=torch.int64)


def live_prefix_fill(mode_name: str, inputs: tuple, buffers, options: dict, *, live_shift: int = 0, tail=None) -> None:
    """The reference's full-width fill, then each page-table cell at or past its row's kv length (plus
    `live_shift`) put back to its old contents, or to `tail(full_width_value)` where `tail` is given."""
    before = buffers.clone()
    FILLS[mode_name](*inputs, buffers, **options)
    kv = _token_kv_lens(mode_name, inputs, options.get("next_n", 1)) + live_shift
    page_size = options["page_size"]
    tables = {"page_table_1": 1, "real_page_table": page_size}
    for name, columns_per_cell in tables.items():
        table, old = getattr(buffers, name), getattr(before, name)
        if table is None or (name == "real_page_table" and page_size == 1):
            continue
        rows = kv.shape[0]
        first_column = torch.arange(table.shape[1], dtype=torch.int64) * columns_per_cell
        past = (first_column[None, :] >= kv[:, None]) & (first_column < options["max_seqlen_k"])[None, :]
        written = table[:rows].cpu()
        restored = torch.where(past, old[:rows].cpu() if tail is None else tail(written), written)
        table[:rows].copy_(restored)


def fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options):
    live_prefix_fill("draft-extend", (seq_lens, extend_seq_lens, req_pool_indices, req_to_token), buffers, options)


def fill_decode_metadata(seq_lens, req_pool_indices, req_to_token, buffers, **options):
    live_prefix_fill("decode", (seq_lens, req_pool_indices, req_to_token), buffers, options)


def fill_target_verify_metadata(seq_lens, req_pool_indices, req_to_token, buffers, **options):
    live_prefix_fill("target-verify", (seq_lens, req_pool_indices, req_to_token), buffers, options)


for _fill in (fill_draft_extend_metadata, fill_decode_metadata, fill_target_verify_metadata):
    _fill.supports_page_table_1_none = True
