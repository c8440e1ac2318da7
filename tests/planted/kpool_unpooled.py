"""Planted: a kernel that takes `index_kpool` and ignores it, clipping every sparse length as plain
min(length, topk): right wherever k = 1, wrong for every length past the top-k under KPool, where the
engine keeps the live partial pool (min(length // k * k, topk) + length % k)."""

import kernel


def fill_decode_metadata(seq_lens, req_pool_indices, req_to_token, buffers, *, index_kpool=1, **options):
    kernel.fill_decode_metadata(seq_lens, req_pool_indices, req_to_token, buffers, **options)


def fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, *, index_kpool=1, **options):
    kernel.fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options)


for _fill in (fill_decode_metadata, fill_draft_extend_metadata):
    _fill.supports_page_table_1_none = True
