"""Clips the expanded lengths with clamp(min=topk) instead of clamp(max=topk).
Affects nsa_cache_seqlens_int32 and nsa_cu_seqlens_k; models a min/max mix-up in clipping.
"""

from __future__ import annotations

import torch

from properties.mutants._eager import after_reference
from reference import eager


def corrupt(*, seq_lens, extend_seq_lens, buffers, nsa_index_topk, **_) -> None:
    seqlens_expanded, _nsa_cache_seqlens = eager.expand_seqlens(extend_seq_lens, seq_lens, nsa_index_topk)
    total = seqlens_expanded.shape[0]
    # Defect: clamp(min=...) where clamp(max=...) is meant.
    nsa_cache_seqlens = seqlens_expanded.clamp(min=nsa_index_topk)
    buffers.nsa_cache_seqlens_int32[:total].copy_(nsa_cache_seqlens)
    buffers.nsa_cu_seqlens_k[1 : 1 + total].copy_(torch.cumsum(nsa_cache_seqlens, dim=0, dtype=torch.int32))


fill_draft_extend_metadata = after_reference(corrupt)
