"""One explicit case per edge class, pinned with @example on every contract property so each class
is checked on every run, before Hypothesis draws anything."""

from __future__ import annotations

from properties.cases import LARGE_BATCH, LONG_CONTEXT, MANY_TOKENS, TRIANGLE_LIMIT, WIDE_BATCH, WIDE_CONTEXT, DraftExtendCase


def _case(seq_lens, extend_seq_lens, *, topk=4, page_size=1, slack=0, dtype="int32", **extra) -> DraftExtendCase:
    bs = len(seq_lens)
    max_seqlen_k = max(seq_lens) + slack
    return DraftExtendCase(
        seq_lens=tuple(seq_lens),
        extend_seq_lens=tuple(extend_seq_lens),
        req_pool_indices=tuple(reversed(range(bs))),
        pool_size=bs + 1,
        context_len=max_seqlen_k + 2,
        nsa_index_topk=topk,
        page_size=page_size,
        max_seqlen_k=max_seqlen_k,
        seq_lens_dtype=dtype,
        extend_seq_lens_dtype=dtype,
        req_pool_indices_dtype=dtype,
        req_to_token_seed=bs,
        spare_requests=2,
        spare_tokens=3,
        spare_cols=5,
        row_pad=3,
        **extra,
    )


def _ragged(bs: int, max_extend: int) -> tuple[list[int], list[int]]:
    seq_lens = [5 + (7 * b) % 23 for b in range(bs)]
    return seq_lens, [(3 * b) % (max_extend + 1) for b in range(bs)]


EDGE_EXAMPLES: dict[str, DraftExtendCase] = {
    "decode_like": _case([9, 3, 17, 1], [1, 1, 1, 1]),
    "full_extend": _case([3, 5, 1], [3, 5, 1], topk=2),
    "zero_extend": _case([6, 4, 9], [0, 2, 0]),
    "all_clipped": _case([40, 33, 57], [3, 4, 2], topk=8),
    "straddles_topk": _case([12, 20], [4, 3], topk=10),
    "single_request": _case([11], [3], topk=9),
    "large_batch": _case(*_ragged(LARGE_BATCH + 43, 3), topk=7, page_size=2),
    "many_tokens": _case(*_ragged(MANY_TOKENS // 2 + 2, 4), topk=12, page_size=16),
    "long_context": _case([LONG_CONTEXT + 77, 1200], [3, 2], topk=2048, page_size=64),
    "slack_max_seqlen_k": _case([30, 7], [2, 2], slack=129, page_size=64),
    "page_size_1": _case([13, 2, 8], [2, 1, 3], page_size=1),
    "page_size_64": _case([200, 64, 65, 129], [2, 1, 2, 3], page_size=64, req_to_token_base=-5000),
    "int64_inputs": _case([14, 6, 31], [3, 0, 2], dtype="int64", page_size=16),
    "triangle_past_int32": _case([TRIANGLE_LIMIT + 3, 9], [3, 2], topk=50_000, page_size=64),
    "wide_and_long": _case(
        [WIDE_CONTEXT + (37 * b) % 900 for b in range(WIDE_BATCH + 3)],
        [b % 3 // 2 for b in range(WIDE_BATCH + 3)],
        topk=2048,
        page_size=64,
    ),
}
