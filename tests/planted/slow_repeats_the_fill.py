"""Planted: a correct variant that is slow. It is the shipped kernel, called 30 times per call: every
buffer it leaves is right, and every row but speed passes. The speed row must fail it as slower than
its baseline (the shipped kernel) by far more than --max-slowdown allows."""

import kernel

REPEATS = 30


def fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options):
    for _ in range(REPEATS):
        kernel.fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options)
