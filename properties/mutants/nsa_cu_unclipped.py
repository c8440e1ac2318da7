"""Builds nsa_cu_seqlens_k from the unclipped expanded lengths instead of the topk-clipped ones.
Models a prefix sum over the wrong (pre-clip) vector.
"""

from __future__ import annotations

import torch

from properties.mutants._eager import after_reference
from reference import eager


def corrupt(*, seq_lens, extend_seq_lens, buffers, nsa_index_topk, **_) -> None:
    seqlens_expanded, _nsa_cache_seqlens = eager.expand_seqlens(extend_seq_lens, seq_lens, nsa_index_topk)
    total = seqlens_expanded.shape[0]
    # Defect: the cumsum should run over the clipped lengths (nsa_cache_seqlens).
    buffers.nsa_cu_seqlens_k[1 : 1 + total].copy_(torch.cumsum(seqlens_expanded, dim=0, dtype=torch.int32))


fill_draft_extend_metadata = after_reference(corrupt)
