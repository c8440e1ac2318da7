"""The same law stated a second time, in plain Python lists, token by token.

It shares no code and no torch op with `reference.eager`: it exists only to cross-check that
reference on small cases, so that the oracle of record is itself checked against something.
"""

from __future__ import annotations

import copy


def _int32(x: int) -> int:
    return (x + 2**31) % 2**32 - 2**31


def expected_buffers(
    seq_lens: list[int],
    extend_seq_lens: list[int],
    req_pool_indices: list[int],
    req_to_token: list[list[int]],
    initial: dict[str, list],
    *,
    nsa_index_topk: int,
    page_size: int,
    max_seqlen_k: int,
) -> dict[str, list]:
    """Every buffer after one call, given every buffer's contents before it (as nested lists).

    With page_size == 1 there is no separate real page table: `initial` then has no
    "real_page_table" entry, and neither has the result.
    """
    out = copy.deepcopy(initial)

    running_kv = 0
    for b, kv_len in enumerate(seq_lens):
        out["cache_seqlens_int32"][b] = _int32(kv_len)
        running_kv = _int32(running_kv + _int32(kv_len))
        out["cu_seqlens_k"][b + 1] = running_kv

    token = 0
    running_nsa = 0
    for b, (kv_len, qo_len) in enumerate(zip(seq_lens, extend_seq_lens)):
        row = req_to_token[req_pool_indices[b]]
        for step in range(qo_len):
            visible = kv_len - qo_len + 1 + step
            clipped = visible if visible < nsa_index_topk else nsa_index_topk
            out["nsa_seqlens_expanded"][token] = _int32(visible)
            out["nsa_cache_seqlens_int32"][token] = _int32(clipped)
            running_nsa = _int32(running_nsa + clipped)
            out["nsa_cu_seqlens_k"][token + 1] = running_nsa
            for col in range(max_seqlen_k):
                out["page_table_1"][token][col] = row[col]
            if page_size > 1:
                for page, col in enumerate(range(0, max_seqlen_k, page_size)):
                    out["real_page_table"][token][page] = row[col] // page_size
            token += 1
    return out
