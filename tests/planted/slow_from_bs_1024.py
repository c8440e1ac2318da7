"""Planted: the shipped kernel, right everywhere, but from 1,024 requests up it fills the buffers five
times: a regression only the large batches show. The speed row, which times bs to 4,096, must fail it."""

import kernel

REPEATS = 5


def fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options):
    for _ in range(REPEATS if seq_lens.shape[0] >= 1024 else 1):
        kernel.fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options)
