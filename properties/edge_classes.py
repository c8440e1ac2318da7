"""The edge classes: the corners of the input space that every run must reach (each pinned by an
example in properties.edges, and counted by a campaign's coverage), the sizes that define them, and
which of them a case exercises.
"""

from __future__ import annotations

import torch

from properties.cases import ReplayCase
from reference.modes import TARGET_VERIFY

LARGE_BATCH = 257  # above every batch-axis block a kernel of this family uses (256-wide scans)
MANY_TOKENS = 1025  # above every tile on any axis (1024-wide column tiles)
LONG_CONTEXT = 65_536
# Many requests and many columns at once, so that each column program walks more than one tile and
# what it stores is its prefetch of the next: at the GPU geometry that takes past 512 requests (8,192
# programs of 1,024 columns, or blocks of 32 requests with 128-column tiles in target-verify) over
# 16k columns. The interpreter's programs take blocks of 256 requests and aim for four in all, so
# past 256 requests over three 1,024-column tiles each column program walks two: the CPU tier stops
# there, where a call costs it a fifth of what the GPU's size would.
WIDE_BATCH, WIDE_CONTEXT = (513, 16_385) if torch.cuda.is_available() else (LARGE_BATCH, 3_073)
# n * (n + 1) / 2 leaves int32 past n = 46340: a closed-form sum of lengths is wrong there in int32.
TRIANGLE_LIMIT = 46_340
# The extremes SGLang's own kernel test checks: a page table of 1,000,003 columns over sequences near a
# million tokens, and 16,384 requests.
MILLION_COLUMNS = 1_000_003
HUGE_BATCH = 16_384


EDGE_CLASSES = (
    "decode_like",
    "full_extend",
    "zero_extend",
    "all_clipped",
    "straddles_topk",
    "single_request",
    "large_batch",
    "many_tokens",
    "long_context",
    "slack_max_seqlen_k",
    "page_size_1",
    "page_size_64",
    "int64_inputs",
    "triangle_past_int32",
    "wide_and_long",
    "padded_bucket",
    "extend_past_seq_len",
    "empty_batch",
    "prefix_views",
    "ctx_lens_2d",
    "longest_draft",
    "million_columns",
    "huge_batch",
    "all_padding",
    "no_page_table_1",
    "index_kpool",
)
# The edge classes a forward mode can exercise: extend lengths are draft-extend's alone, and so are
# its padding requests' lengths past seq_len; the 2-D schedule lengths and next_n are target-verify's.
_DRAFT_EXTEND_ONLY = frozenset(("decode_like", "full_extend", "zero_extend", "extend_past_seq_len"))
_TARGET_VERIFY_ONLY = frozenset(("ctx_lens_2d", "longest_draft"))


def edge_classes_of(mode_name: str) -> tuple[str, ...]:
    excluded = {"draft-extend": _TARGET_VERIFY_ONLY, "target-verify": _DRAFT_EXTEND_ONLY}.get(
        mode_name, _DRAFT_EXTEND_ONLY | _TARGET_VERIFY_ONLY
    )
    return tuple(name for name in EDGE_CLASSES if name not in excluded)


def edge_classes(case: ReplayCase) -> frozenset[str]:
    """The edge classes of EDGE_CLASSES that `case` exercises."""
    expanded = case.expanded()
    padding = case.padding_requests()
    topk = case.nsa_index_topk
    dtypes = (case.seq_lens_dtype, case.extend_seq_lens_dtype, case.req_pool_indices_dtype)
    checks = {
        "decode_like": case.bs > 0 and all(qo == 1 for qo in case.extend_seq_lens),
        "full_extend": any(qo == kv and qo > 0 for kv, qo in zip(case.seq_lens, case.extend_seq_lens)),
        "zero_extend": any(qo == 0 for qo in case.extend_seq_lens),
        "all_clipped": bool(expanded) and all(v > topk for v in expanded),
        "straddles_topk": topk in expanded and topk + 1 in expanded,
        "single_request": case.bs == 1,
        "large_batch": case.bs >= LARGE_BATCH,
        "many_tokens": case.total_tokens >= MANY_TOKENS,
        "long_context": case.longest >= LONG_CONTEXT,
        "slack_max_seqlen_k": case.max_seqlen_k > case.longest,
        "page_size_1": case.page_size == 1,
        "page_size_64": case.page_size == 64,
        "int64_inputs": "int64" in dtypes,
        "triangle_past_int32": topk > TRIANGLE_LIMIT
        and any(kv - qo <= TRIANGLE_LIMIT < kv for kv, qo in zip(case.kv_lens, case.extend_seq_lens)),
        "wide_and_long": case.bs >= WIDE_BATCH and case.max_seqlen_k >= WIDE_CONTEXT,
        # Live requests, then the padding that fills the bucket: what a runner's replay passes.
        "padded_bucket": bool(padding) and padding == list(range(padding[0], case.bs)),
        "extend_past_seq_len": bool(padding),
        "empty_batch": case.bs == 0,
        "prefix_views": case.input_spare > 0,
        "ctx_lens_2d": case.ctx_lens_2d,
        "longest_draft": case.forward_mode == TARGET_VERIFY.name and case.next_n >= 8,
        "million_columns": case.max_seqlen_k >= MILLION_COLUMNS,
        "huge_batch": case.bs >= HUGE_BATCH,
        # A replay of padding alone, every seq_len 0 (DeepGEMM's paged-MQA schedule is known to
        # read out of bounds there, deepseek-ai/DeepGEMM#353).
        "all_padding": case.bs > 0 and all(kv == 0 for kv in case.seq_lens),
        "no_page_table_1": not case.page_table_1_given,
        "index_kpool": case.index_kpool > 1,
    }
    applies = edge_classes_of(case.forward_mode)
    return frozenset(name for name, hit in checks.items() if hit and name in applies)
