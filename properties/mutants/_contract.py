"""The contract's signature, written once for every mutant: `contract(body)` is a function with the
exact signature of reference.fill_draft_extend_metadata that hands each argument to `body` by keyword
(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, nsa_index_topk, page_size,
max_seqlen_k).
"""

from __future__ import annotations

from typing import Callable

import torch

from properties.harness import Contract
from reference.buffers import MetadataBuffers


def contract(body: Callable[..., None]) -> Contract:
    def fill_draft_extend_metadata(
        seq_lens: torch.Tensor,
        extend_seq_lens: torch.Tensor,
        req_pool_indices: torch.Tensor,
        req_to_token: torch.Tensor,
        buffers: MetadataBuffers,
        *,
        nsa_index_topk: int,
        page_size: int,
        max_seqlen_k: int,
    ) -> None:
        body(
            seq_lens=seq_lens,
            extend_seq_lens=extend_seq_lens,
            req_pool_indices=req_pool_indices,
            req_to_token=req_to_token,
            buffers=buffers,
            nsa_index_topk=nsa_index_topk,
            page_size=page_size,
            max_seqlen_k=max_seqlen_k,
        )

    return fill_draft_extend_metadata
