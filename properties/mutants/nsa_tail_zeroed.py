"""Zeroes nsa_seqlens_expanded and nsa_cache_seqlens_int32 past the `total` written tokens (their padding).
Models a padding bug: zero-filling the graph buffers up to capacity instead of leaving padding untouched.
"""

from __future__ import annotations

import torch

from reference import eager
from reference.buffers import DraftExtendMetadataBuffers


def fill_draft_extend_metadata(
    seq_lens: torch.Tensor,
    extend_seq_lens: torch.Tensor,
    req_pool_indices: torch.Tensor,
    req_to_token: torch.Tensor,
    buffers: DraftExtendMetadataBuffers,
    *,
    nsa_index_topk: int,
    page_size: int,
    max_seqlen_k: int,
) -> None:
    eager.fill_draft_extend_metadata(
        seq_lens,
        extend_seq_lens,
        req_pool_indices,
        req_to_token,
        buffers,
        nsa_index_topk=nsa_index_topk,
        page_size=page_size,
        max_seqlen_k=max_seqlen_k,
    )
    total = int(extend_seq_lens.sum())
    # Defect: padding must keep its old contents.
    buffers.nsa_seqlens_expanded[total:].zero_()
    buffers.nsa_cache_seqlens_int32[total:].zero_()
