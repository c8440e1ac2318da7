"""Planted: the shipped kernel, then a one-program kernel that, from 64 requests up, stores a terabyte
past the start of cache_seqlens_int32: an illegal address, a sticky fault. GPU tier only (through
the interpreter it would write outside the process's memory)."""

import triton
import triton.language as tl

import kernel


@triton.jit
def _store_far_from_bs64(out_ptr, bs):
    # Below 64 requests it stores cell 0's own value back: nothing changes.
    far = tl.where(bs >= 64, 1 << 40, 0).to(tl.int64)
    tl.store(out_ptr + far, tl.load(out_ptr))


def fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options):
    kernel.fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options)
    bs = seq_lens.shape[0]
    if bs:
        _store_far_from_bs64[(1,)](buffers.cache_seqlens_int32, bs)
