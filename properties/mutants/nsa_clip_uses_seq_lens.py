"""Clips each token's request seq_len (repeated per token) instead of its expanded length
(nsa_cache_seqlens_int32, nsa_cu_seqlens_k). Models clipping per-request lengths where per-token
causal lengths are meant.
"""

from __future__ import annotations

import torch

from properties.mutants._eager import after_reference


def corrupt(*, seq_lens, extend_seq_lens, buffers, nsa_index_topk, **_) -> None:
    total = int(extend_seq_lens.sum())
    # Defect: should be min(seqlens_expanded, topk), not min(seq_lens[owner], topk).
    per_token_kv = torch.repeat_interleave(seq_lens.to(torch.int32), repeats=extend_seq_lens, dim=0)
    nsa_cache_seqlens = per_token_kv.clamp(max=nsa_index_topk)
    buffers.nsa_cache_seqlens_int32[:total].copy_(nsa_cache_seqlens)
    buffers.nsa_cu_seqlens_k[1 : 1 + total].copy_(torch.cumsum(nsa_cache_seqlens, dim=0, dtype=torch.int32))


fill_draft_extend_metadata = after_reference(corrupt)
