"""With page_size == 1, writes a per-request (decode-layout) table into real_page_table, which
aliases page_table_1: models page_size == 1 handling that forgets the alias, so per-token rows
of page_table_1 get overwritten by per-request rows.
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
    if page_size == 1:
        rows = min(seq_lens.shape[0], buffers.real_page_table.shape[0])
        # Defect: real_page_table is page_table_1 here, and its rows are per token, not per request.
        per_request = req_to_token[req_pool_indices[:rows], :max_seqlen_k]
        buffers.real_page_table[:rows, :max_seqlen_k].copy_(per_request)
