"""One explicit case per edge class, pinned with @example on every contract property so each class
is checked on every run, before Hypothesis draws anything."""

from __future__ import annotations

from properties.cases import LARGE_BATCH, LONG_CONTEXT, MANY_TOKENS, TRIANGLE_LIMIT, WIDE_BATCH, WIDE_CONTEXT, DraftExtendCase


def _case(seq_lens, extend_seq_lens, *, topk=4, page_size=1, slack=0, dtype="int32", **extra) -> DraftExtendCase:
    bs = len(seq_lens)
    max_seqlen_k = max(seq_lens, default=0) + slack
    return DraftExtendCase(
        seq_lens=tuple(seq_lens),
        extend_seq_lens=tuple(extend_seq_lens),
        req_pool_indices=extra.pop("req_pool_indices", tuple(reversed(range(bs)))),
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


def _padded(live_seq_lens, live_extend, bucket: int, width: int, fill: int) -> dict:
    """Live requests, then padding up to `bucket` as SGLang's draft-extend graph runner pads a replay:
    seq_len `fill` (its backend's fill value, 1; 0 in engines that pad with 0), pool row 0 (the
    reserved slot) and the draft width as extend length."""
    pad = bucket - len(live_seq_lens)
    return dict(
        seq_lens=list(live_seq_lens) + [fill] * pad,
        extend_seq_lens=list(live_extend) + [width] * pad,
        req_pool_indices=tuple(range(len(live_seq_lens), 0, -1)) + (0,) * pad,
    )


# Every extend length 1..8 over every seq_len 0..width: the padding requests (seq_len < width) and
# the full extends (seq_len == width) of each draft width.
_PAST = [(kv, width) for width in range(1, 9) for kv in range(width + 1)]


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
    "padded_bucket": _case(**_padded([9, 30, 4, 17, 6], [4, 4, 4, 4, 4], bucket=8, width=4, fill=1), topk=8, page_size=64),
    "extend_past_seq_len": _case(
        [kv for kv, _ in _PAST], [qo for _, qo in _PAST], topk=3, page_size=2,
        req_pool_indices=tuple(0 if qo > kv else b + 1 for b, (kv, qo) in enumerate(_PAST)),
    ),
    "empty_batch": _case([], [], page_size=16),
    "prefix_views": _case([21, 8, 40], [2, 3, 1], topk=16, page_size=16, input_spare=5),
    "wide_and_long": _case(
        [WIDE_CONTEXT + (37 * b) % 900 for b in range(WIDE_BATCH + 3)],
        [b % 3 // 2 for b in range(WIDE_BATCH + 3)],
        topk=2048,
        page_size=64,
    ),
}
