"""Column tile loop uses col_begin instead of the loop variable: columns >= COL_TILE never written.
Models a tile-loop bug that only shows when max_seqlen_k > COL_TILE (page_table_1).
"""

from __future__ import annotations

import torch

from properties.mutants._triton_defects import COLUMN_TILE_FROZEN, launch_with_defect
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
        COLUMN_TILE_FROZEN,
        seq_lens,
        extend_seq_lens,
        req_pool_indices,
        req_to_token,
        buffers,
        nsa_index_topk=nsa_index_topk,
        page_size=page_size,
        max_seqlen_k=max_seqlen_k,
    )
