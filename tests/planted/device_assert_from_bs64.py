"""Planted: the shipped kernel, then a one-program kernel whose device-side assert fires from 64
requests up: a real sticky fault, which poisons the process's CUDA context for every later call.
The GPU tier holds the suite to reporting a bs >= 64 case whose reproducer faults again on replay."""

import triton
import triton.language as tl

import kernel


@triton.jit(debug=True)
def _batch_below_64(bs):
    tl.device_assert(bs < 64, "planted: 64 requests or more")


def fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options):
    kernel.fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options)
    _batch_below_64[(1,)](seq_lens.shape[0])
