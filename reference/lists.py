"""The same law stated a second time, in plain Python lists, token by token.

It shares no code and no torch op with `reference.eager`: it exists only to cross-check that
reference on small cases, so that the oracle of record is itself checked against something.
"""

from __future__ import annotations

import copy


def _int32(x: int) -> int:
    return (x + 2**31) % 2**32 - 2**31


def expanded_lengths(kv_len: int, qo_len: int) -> list[int]:
    """The kv length each of a request's qo_len draft tokens attends to, in order: kv-qo+1, ..., kv,
    each clamped to at least 1.

    The clamp matters only for a graph-bucket padding request (qo > kv): SGLang's CUDA-graph runners
    pad a replay to its captured batch size with seq_len 1 (or 0), pool row 0 and the draft width as
    extend length, and SGLang's DSA fix clamps those causal lengths to 1 instead of letting them go to
    0 and below. For qo <= kv it changes nothing. This is the rule's one statement in plain Python;
    cases, strategies and validation mode use it, the eager reference states it in torch.
    """
    return [max(kv_len - qo_len + 1 + step, 1) for step in range(qo_len)]


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
        for visible in expanded_lengths(kv_len, qo_len):
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
