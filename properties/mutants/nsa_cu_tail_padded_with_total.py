"""Fills nsa_cu_seqlens_k past element `total` with the last prefix value (the flash-attn padding convention).
Models a padding bug: writing the sentinel region of a cu buffer.
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
    # Defect: elements past total are padding and must stay untouched.
    buffers.nsa_cu_seqlens_k[total + 1 :].copy_(buffers.nsa_cu_seqlens_k[total].expand(
        buffers.nsa_cu_seqlens_k.shape[0] - total - 1
    ))
