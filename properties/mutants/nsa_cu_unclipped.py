"""Builds nsa_cu_seqlens_k from the unclipped expanded lengths instead of the topk-clipped ones.
Models a prefix sum over the wrong (pre-clip) vector.
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
    seqlens_expanded, _nsa_cache_seqlens = eager.expand_seqlens(extend_seq_lens, seq_lens, nsa_index_topk)
    total = seqlens_expanded.shape[0]
    # Defect: the cumsum should run over the clipped lengths (nsa_cache_seqlens).
    buffers.nsa_cu_seqlens_k[1 : 1 + total].copy_(torch.cumsum(seqlens_expanded, dim=0, dtype=torch.int32))
