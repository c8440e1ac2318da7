"""Clips the expanded lengths with clamp(min=topk) instead of clamp(max=topk).
Affects nsa_cache_seqlens_int32 and nsa_cu_seqlens_k; models a min/max mix-up in clipping.
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
    seqlens_expanded, _ = eager.expand_seqlens(extend_seq_lens, seq_lens, nsa_index_topk)
    total = seqlens_expanded.shape[0]
    # Defect: clamp(min=...) where clamp(max=...) is meant.
    nsa_cache_seqlens = seqlens_expanded.clamp(min=nsa_index_topk)
    buffers.nsa_cache_seqlens_int32[:total].copy_(nsa_cache_seqlens)
    buffers.nsa_cu_seqlens_k[1 : 1 + total].copy_(torch.cumsum(nsa_cache_seqlens, dim=0, dtype=torch.int32))
