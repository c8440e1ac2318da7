"""Planted: the shipped kernel, except that from three requests on it first launches a kernel that
waits on a flag nothing ever sets, as a kernel fed a negative length can spin on a GPU
(vllm-project/vllm#51593): the call, or the first sync after it, never returns. The gate's
--row-timeout must fail the row as hung, name the case, and go on to the next row."""

import torch
import triton
import triton.language as tl

import kernel


@triton.jit
def _wait_for_a_flag_never_set(flag_ptr):
    while tl.load(flag_ptr, volatile=True) == 0:
        pass


def fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options):
    if seq_lens.shape[0] > 2:
        _wait_for_a_flag_never_set[(1,)](torch.zeros(1, dtype=torch.int32, device=seq_lens.device))
    kernel.fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options)
