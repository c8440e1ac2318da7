"""Planted: the shipped kernel, except that an idle batch (bs = 0, as DP attention runs) is refused,
as this project's kernel once refused it. The contract admits it: the gate must fail it on the
empty_batch edge example."""

import kernel


def fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options):
    if seq_lens.shape[0] == 0:
        raise ValueError("seq_lens must hold at least one request")
    kernel.fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options)
