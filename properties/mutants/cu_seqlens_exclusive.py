"""Writes the exclusive prefix sum of seq_lens into cu_seqlens_k[1:bs+1] instead of the inclusive one.
Models an exclusive/inclusive scan mix-up.
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
    bs = seq_lens.shape[0]
    kv = seq_lens.to(torch.int32)
    # Defect: cumsum - x is the exclusive scan; the contract wants the inclusive one at 1..bs.
    buffers.cu_seqlens_k[1 : bs + 1].copy_(torch.cumsum(kv, dim=0, dtype=torch.int32) - kv)
