"""Writes nsa_cu_seqlens_k[0] = 0 (a leading zero prepended to the cumsum); the contract leaves element 0 untouched.
Models a bounds bug: a cu buffer built with F.pad(cumsum, (1, 0)) and copied whole.
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
    _seqlens_expanded, nsa_cache_seqlens = eager.expand_seqlens(extend_seq_lens, seq_lens, nsa_index_topk)
    cu = torch.cumsum(nsa_cache_seqlens, dim=0, dtype=torch.int32)
    # Defect: element 0 is written too.
    padded = torch.nn.functional.pad(cu, (1, 0))
    buffers.nsa_cu_seqlens_k[: padded.shape[0]].copy_(padded)
