"""Page count is floor(max_seqlen_k / page_size): the last partial page of real_page_table is dropped.
Models floor instead of ceil on a page count.
"""

from __future__ import annotations

import torch

from properties.mutants._triton_defects import REAL_TABLE_FLOOR_PAGES, launch_with_defect
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
        REAL_TABLE_FLOOR_PAGES,
        seq_lens,
        extend_seq_lens,
        req_pool_indices,
        req_to_token,
        buffers,
        nsa_index_topk=nsa_index_topk,
        page_size=page_size,
        max_seqlen_k=max_seqlen_k,
    )
