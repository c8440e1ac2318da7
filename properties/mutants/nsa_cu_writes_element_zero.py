"""Writes nsa_cu_seqlens_k[0] = 0 (a leading zero prepended to the cumsum); the contract leaves element 0 untouched.
Models a bounds bug: a cu buffer built with F.pad(cumsum, (1, 0)) and copied whole.
"""

from __future__ import annotations

import torch

from properties.mutants._eager import after_reference
from reference import eager


def corrupt(*, seq_lens, extend_seq_lens, buffers, nsa_index_topk, **_) -> None:
    _seqlens_expanded, nsa_cache_seqlens = eager.expand_seqlens(extend_seq_lens, seq_lens, nsa_index_topk)
    cu = torch.cumsum(nsa_cache_seqlens, dim=0, dtype=torch.int32)
    # Defect: element 0 is written too.
    padded = torch.nn.functional.pad(cu, (1, 0))
    buffers.nsa_cu_seqlens_k[: padded.shape[0]].copy_(padded)


fill_draft_extend_metadata = after_reference(corrupt)
# Element 0 may hold 0 under the sglang domain (SGLang stores 0 there): a defect under the strict rules only.
fill_draft_extend_metadata.domain = "strict"
