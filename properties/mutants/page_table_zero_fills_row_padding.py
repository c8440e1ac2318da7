"""Zero-fills each written row of page_table_1 across its full width, clobbering the columns past max_seqlen_k.
Models a padding bug: clearing whole graph-buffer rows instead of only the written prefix.
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
    total = int(extend_seq_lens.sum())
    # Defect: the whole row is cleared, not just [:max_seqlen_k] (which the copy overwrites anyway).
    buffers.page_table_1[:total].zero_()
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
