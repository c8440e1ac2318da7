"""Reads seq_lens through an int32 pointer: int64 seq_lens are read as (low, high) word pairs.
Models an int64-only dtype bug (every buffer derived from seq_lens).
"""

from __future__ import annotations

import torch

from properties.mutants._triton_defects import SEQ_LENS_AS_INT32, launch_with_defect
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
        SEQ_LENS_AS_INT32,
        seq_lens,
        extend_seq_lens,
        req_pool_indices,
        req_to_token,
        buffers,
        nsa_index_topk=nsa_index_topk,
        page_size=page_size,
        max_seqlen_k=max_seqlen_k,
    )
