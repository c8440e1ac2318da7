"""One explicit case per edge class of each forward mode, pinned with @example on every contract
property so each class is checked on every run, before Hypothesis draws anything.

Draft-extend's examples are written out; decode and target-verify take the same requests in their
own mode (`in_forward_mode`), with next_n 3 for target-verify's, and add their own classes: the 2-D
schedule lengths, the longest draft, and the extremes SGLang's own kernel test checks.
"""

from __future__ import annotations

from properties.cases import ReplayCase
from properties.edge_classes import (
    HUGE_BATCH,
    LARGE_BATCH,
    LONG_CONTEXT,
    MANY_TOKENS,
    MILLION_COLUMNS,
    TRIANGLE_LIMIT,
    WIDE_BATCH,
    WIDE_CONTEXT,
    edge_classes_of,
)
from reference.domain import KPOOL_SIZE, PAGE_SIZES
from reference.modes import DEFAULT_FORWARD_MODE, FORWARD_MODES, TARGET_VERIFY


def _case(seq_lens, extend_seq_lens, *, topk=4, page_size=1, slack=0, dtype="int32", spare_cols=5, **extra) -> ReplayCase:
    bs = len(seq_lens)
    max_seqlen_k = max(seq_lens, default=0) + slack
    return ReplayCase(
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
        spare_cols=spare_cols,
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


def wide_case(bs: int, context: int) -> ReplayCase:
    """bs requests of `context` to `context + 899` tokens each, a third of them extending by one:
    many requests over many columns, with few tokens to keep it affordable."""
    return _case([context + (37 * b) % 900 for b in range(bs)], [b % 3 // 2 for b in range(bs)], topk=2048, page_size=64)


def _ragged(bs: int, max_extend: int) -> tuple[list[int], list[int]]:
    # The first request is the longest, so that the batch's max lies in its first request block
    # only: a later block that takes the graph-resident max from its own requests misses it.
    seq_lens = [40] + [5 + (7 * b) % 23 for b in range(1, bs)]
    return seq_lens, [(3 * b) % (max_extend + 1) for b in range(bs)]


EDGE_EXAMPLES: dict[str, ReplayCase] = {
    "decode_like": _case([9, 3, 17, 1], [1, 1, 1, 1]),
    "full_extend": _case([3, 5, 1], [3, 5, 1], topk=2),
    "zero_extend": _case([6, 4, 9], [0, 2, 0]),
    "all_clipped": _case([40, 33, 57], [3, 4, 2], topk=8),
    "straddles_topk": _case([12, 20], [4, 3], topk=10),
    "single_request": _case([11], [3], topk=9),
    "large_batch": _case(*_ragged(LARGE_BATCH + 43, 3), topk=7, page_size=2),
    "many_tokens": _case(*_ragged(MANY_TOKENS // 2 + 2, 4), topk=12, page_size=16),
    "long_context": _case([LONG_CONTEXT + 77, 1200], [3, 2], topk=2048, page_size=64),
    # Columns far past the longest row in req_to_token and in the buffers, as SGLang sizes its graph
    # buffers for the longest context: past two of the interpreter's 1,024-column tiles, so that in
    # graph-resident mode (max_seqlen_k = max(seq_lens)) the capacity, which bounds no row, lies
    # tiles past it.
    "slack_max_seqlen_k": _case([30, 7], [2, 2], slack=2100, page_size=64, spare_cols=2100),
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
    "wide_and_long": wide_case(WIDE_BATCH + 3, WIDE_CONTEXT),
    # A replay of padding alone: every seq_len 0, pool row 0, the draft width 4.
    "all_padding": _case(**_padded([], [], bucket=4, width=4, fill=0), topk=8, page_size=64, slack=3),
    # The real table alone, rows past a page and short of one (kv 1, 64, 65, 130) under slack columns.
    "no_page_table_1": _case([130, 1, 65, 64], [2, 1, 3, 2], topk=16, page_size=64, slack=70, page_table_1_given=False),
    # KPool 4: lengths below, on and past topk + k, where the sparse length stops following the length.
    "index_kpool": _case([70, 13, 66, 3], [4, 3, 4, 0], topk=64, page_size=64, index_kpool=4),
}


def _kpool_member(index_kpool: int) -> ReplayCase:
    """KPool size k at page 64, top-k 64: one request below the top-k, then one token length past it
    in every remainder class modulo 16 (so modulo every declared k), where the live partial pool
    (len % k) is all that tells k from any other size."""
    seq_lens = [13] + [64 + 16 + r for r in range(16)]
    return _case(seq_lens, [1] * len(seq_lens), topk=64, page_size=64, index_kpool=index_kpool)


def _page_member(page_size: int) -> ReplayCase:
    """Page size p: rows of 3p + 1, p, p + 1 and 1 columns, each ending in another page, so that a
    real table cut at any other page size differs."""
    return _case([3 * page_size + 1, page_size, page_size + 1, 1], [2, 1, 2, 1], topk=16, page_size=page_size)


# One example per member of each finite domain set (reference.domain.MEMBER_SETS) that the edge
# examples leave unjudged: computing the member as any other changes a cell of it
# (tests/test_domain.py). Pinned on the values row and its law, `differential`, in every launch form.
MEMBER_EXAMPLES: dict[str, ReplayCase] = {
    **{f"index_kpool_{k}": _kpool_member(k) for k in KPOOL_SIZE.members},
    **{f"page_size_{p}": _page_member(p) for p in PAGE_SIZES.members},
}


def member_examples(mode_name: str = DEFAULT_FORWARD_MODE) -> dict[str, ReplayCase]:
    """The member examples in the forward mode."""
    if mode_name == DEFAULT_FORWARD_MODE:
        return dict(MEMBER_EXAMPLES)
    return {name: in_forward_mode(case, mode_name) for name, case in MEMBER_EXAMPLES.items()}


def in_forward_mode(case: ReplayCase, mode_name: str, next_n: int = 3) -> ReplayCase:
    """`case`'s requests in another forward mode: the same seq_lens, pool rows and buffers, each
    request's tokens as the mode has them, the columns widened by what the mode adds to a kv length."""
    moved = case.with_changes(forward_mode=mode_name, next_n=next_n if mode_name == TARGET_VERIFY.name else 1,
                              padding=len(case.padding_requests()))
    extra = moved.longest - case.longest if case.bs else 0
    return moved.with_changes(max_seqlen_k=case.max_seqlen_k + extra, context_len=case.context_len + extra)


def _huge_batch() -> ReplayCase:
    """SGLang's large-batch test: 16,384 requests of lengths 1..257 over a page table one column wide."""
    bs = HUGE_BATCH
    return ReplayCase(
        seq_lens=tuple(b % 257 + 1 for b in range(bs)),
        extend_seq_lens=(1,) * bs,
        req_pool_indices=tuple((7 * b) % 64 for b in range(bs)),
        pool_size=64,
        context_len=257 + 1,
        nsa_index_topk=64,
        page_size=1,
        max_seqlen_k=1,
        spare_requests=1,
        spare_tokens=1,
    )


def _million_columns(seq_lens, extend_seq_lens) -> ReplayCase:
    """SGLang's large-shape test: sequences near a million tokens over a 1,000,003-column page table."""
    bs = len(seq_lens)
    return ReplayCase(
        seq_lens=tuple(seq_lens),
        extend_seq_lens=tuple(extend_seq_lens),
        req_pool_indices=tuple(reversed(range(bs))),
        pool_size=bs + 1,
        context_len=MILLION_COLUMNS + 8,
        nsa_index_topk=4096,
        page_size=64,
        max_seqlen_k=MILLION_COLUMNS,
        spare_tokens=1,
    )


def _own_examples(mode_name: str) -> dict[str, ReplayCase]:
    """The classes of one mode that draft-extend's examples do not carry over: its own, the extremes,
    and those whose lengths differ in it (a straddle of the top-k, the closed-form sum past int32,
    a thousand tokens in one call)."""
    # Decode and target-verify buckets padded with seq_len 0, as engines that pad with 0 do: a decode
    # request then has no kv at all.
    padded = in_forward_mode(_case(**_padded([9, 30, 4, 17, 6], [1] * 5, bucket=8, width=1, fill=0), topk=8, page_size=64), mode_name)
    if mode_name == TARGET_VERIFY.name:
        return {
            "padded_bucket": padded,
            "straddles_topk": in_forward_mode(_case([9, 30], [1, 1], topk=10), mode_name),
            "triangle_past_int32": in_forward_mode(_case([TRIANGLE_LIMIT - 1, 9], [1, 1], topk=50_000, page_size=64), mode_name),
            "ctx_lens_2d": in_forward_mode(_case([5, 63, 128], [1, 1, 1], topk=64, page_size=64, ctx_lens_2d=True), mode_name, 4),
            "longest_draft": in_forward_mode(_case([40, 3, 17], [1, 1, 1], topk=20, page_size=16, ctx_lens_2d=True), mode_name, 8),
            "million_columns": in_forward_mode(_million_columns([1_000_000], [1]), mode_name, 2).with_changes(
                ctx_lens_2d=True, max_seqlen_k=MILLION_COLUMNS
            ),
            "huge_batch": in_forward_mode(_huge_batch(), mode_name, 1).with_changes(max_seqlen_k=1),
        }
    if mode_name == DEFAULT_FORWARD_MODE:
        return {"million_columns": _million_columns([1_000_000], [4]), "huge_batch": _huge_batch()}
    return {
        "padded_bucket": padded,
        "straddles_topk": in_forward_mode(_case([10, 11, 30], [1, 1, 1], topk=10), mode_name),
        "triangle_past_int32": in_forward_mode(_case([TRIANGLE_LIMIT + 1, 9], [1, 1], topk=50_000, page_size=64), mode_name),
        "many_tokens": in_forward_mode(_case(*_ragged(MANY_TOKENS + 2, 1), topk=12, page_size=16), mode_name),
        "million_columns": in_forward_mode(_million_columns([1_000_000, 999_983], [1, 1]), mode_name),
        "huge_batch": in_forward_mode(_huge_batch(), mode_name).with_changes(max_seqlen_k=1),
    }


def edge_examples(mode_name: str = DEFAULT_FORWARD_MODE) -> dict[str, ReplayCase]:
    """One example per edge class of the forward mode, each exercising its class."""
    own = _own_examples(mode_name)
    if mode_name == DEFAULT_FORWARD_MODE:
        return {**EDGE_EXAMPLES, **own}
    carried = {name: in_forward_mode(case, mode_name) for name, case in EDGE_EXAMPLES.items()}
    return {name: own.get(name, carried.get(name)) for name in edge_classes_of(mode_name)}


EDGE_EXAMPLES_BY_MODE = {name: edge_examples(name) for name in FORWARD_MODES}
# SGLang's own extremes cost the interpreter minutes a call (16,384 requests, a million columns), and a
# GPU milliseconds: they are pinned on every law where a GPU runs the suite, and checked once per mode
# on the CPU tier (tests/test_edge_coverage.py).
EXTREMES = ("million_columns", "huge_batch")


def pinned_examples(mode_name: str = DEFAULT_FORWARD_MODE, *, gpu: bool) -> dict[str, ReplayCase]:
    """The edge examples pinned on every law in the mode: all of them on a GPU, all but the extremes
    without one."""
    return {name: case for name, case in EDGE_EXAMPLES_BY_MODE[mode_name].items() if gpu or name not in EXTREMES}
