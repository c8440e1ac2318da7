"""Planted: the shipped kernel, right everywhere, but past 32k columns it fills the buffers five times:
a regression only long contexts show. The speed row, which times contexts to 1M columns, must fail it."""

import kernel

REPEATS = 5


def fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, *, max_seqlen_k, **options):
    for _ in range(REPEATS if max_seqlen_k > 32_768 else 1):
        kernel.fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, max_seqlen_k=max_seqlen_k, **options)
