"""The same law stated a second time, in plain Python lists, token by token, for every forward mode.

It shares no code and no torch op with `reference.eager`: it exists only to cross-check that
reference on small cases, so that the oracle of record is itself checked against something. What it
shares is the forward modes' plain description (`reference.modes`): which pair of lengths each
request has, and the causal length of each of its tokens.
"""

from __future__ import annotations

import copy

from reference.engines import sparse_length
from reference.modes import ForwardMode


def _int32(x: int) -> int:
    return (x + 2**31) % 2**32 - 2**31


def expected_buffers(
    mode: ForwardMode,
    seq_lens: list[int],
    extend_seq_lens: list[int] | None,
    req_pool_indices: list[int],
    req_to_token: list[list[int]],
    initial: dict[str, list],
    *,
    nsa_index_topk: int,
    page_size: int,
    max_seqlen_k: int,
    next_n: int = 1,
    padding_floor: int = 0,
    index_kpool: int = 1,
    live_prefix: bool = False,
) -> dict[str, list]:
    """Every buffer after one call of `mode`, given every buffer's contents before it (as nested
    lists, one entry per buffer the call is given).

    With page_size == 1 there is no separate real page table: `initial` then has no
    "real_page_table" entry, and neither has the result; nor has either a "page_table_1" entry where
    the caller passes none (page_size > 1). `padding_floor` is the engine profile's least causal length
    of a padding request, in the modes whose padding goes below one; `index_kpool` the KPool size of
    the sparse lengths. Every page-table column below max_seqlen_k is written, whatever `live_prefix`
    says: a live-prefix profile accepts the full-width value in each tail cell.
    """
    out = copy.deepcopy(initial)
    lengths = mode.request_lengths(seq_lens, extend_seq_lens, next_n)
    floor = padding_floor if mode.pads_below_one else 0

    running_kv = 0
    for b, (kv_len, _) in enumerate(lengths):
        out["cache_seqlens_int32"][b] = _int32(kv_len)
        running_kv = _int32(running_kv + _int32(kv_len))
        out["cu_seqlens_k"][b + 1] = running_kv
        if "paged_mqa_ctx_lens_2d" in out:
            for step in range(next_n):
                out["paged_mqa_ctx_lens_2d"][b][step] = _int32(kv_len)

    token = 0
    running_nsa = 0
    for b, (kv_len, qo_len) in enumerate(lengths):
        row = req_to_token[req_pool_indices[b]]
        for visible in mode.expanded_lengths(kv_len, qo_len, floor):
            clipped = sparse_length(visible, nsa_index_topk, index_kpool)
            if "nsa_seqlens_expanded" in out:
                out["nsa_seqlens_expanded"][token] = _int32(visible)
            out["nsa_cache_seqlens_int32"][token] = _int32(clipped)
            running_nsa = _int32(running_nsa + clipped)
            out["nsa_cu_seqlens_k"][token + 1] = running_nsa
            if "page_table_1" in out:
                for col in range(max_seqlen_k):
                    out["page_table_1"][token][col] = row[col]
            if page_size > 1:
                for page, col in enumerate(range(0, max_seqlen_k, page_size)):
                    out["real_page_table"][token][page] = row[col] // page_size
            token += 1
    return out
