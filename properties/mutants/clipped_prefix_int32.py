"""Evaluates the closed-form clipped prefix n*(n+1)//2 in int32: overflows once n > 46340.
Models an integer-width bug in nsa_cu_seqlens_k (long contexts with topk > 46340 only).
"""

from __future__ import annotations

import torch

from properties.mutants._triton_defects import CLIPPED_PREFIX_INT32, launch_with_defect
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
    launch_with_defect(
        CLIPPED_PREFIX_INT32,
        seq_lens,
        extend_seq_lens,
        req_pool_indices,
        req_to_token,
        buffers,
        nsa_index_topk=nsa_index_topk,
        page_size=page_size,
        max_seqlen_k=max_seqlen_k,
    )
