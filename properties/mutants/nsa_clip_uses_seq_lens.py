"""Clips each token's request seq_len (repeated per token) instead of its expanded length
(nsa_cache_seqlens_int32, nsa_cu_seqlens_k). Models clipping per-request lengths where per-token
causal lengths are meant.
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
    # Defect: should be min(seqlens_expanded, topk), not min(seq_lens[owner], topk).
    per_token_kv = torch.repeat_interleave(seq_lens.to(torch.int32), repeats=extend_seq_lens, dim=0)
    nsa_cache_seqlens = per_token_kv.clamp(max=nsa_index_topk)
    buffers.nsa_cache_seqlens_int32[:total].copy_(nsa_cache_seqlens)
    buffers.nsa_cu_seqlens_k[1 : 1 + total].copy_(torch.cumsum(nsa_cache_seqlens, dim=0, dtype=torch.int32))
