"""Planted: the shipped kernel's values, then an exclusive-scan head read from scratch memory it
never wrote, multiplied by 0 so that every value stays right. Only compute-sanitizer's initcheck,
with the caching allocator off, can see it."""

import torch

import kernel


def fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options):
    kernel.fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options)
    bs = seq_lens.shape[0]
    scratch = torch.empty(bs + 1, dtype=torch.int32, device=seq_lens.device)
    scratch[1:].copy_(buffers.cu_seqlens_k[1 : bs + 1])
    buffers.cu_seqlens_k[1 : bs + 1].copy_(scratch[1:] + scratch[:1] * 0)
