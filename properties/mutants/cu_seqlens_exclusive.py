"""Writes the exclusive prefix sum of seq_lens into cu_seqlens_k[1:bs+1] instead of the inclusive one.
Models an exclusive/inclusive scan mix-up.
"""

from __future__ import annotations

import torch

from properties.mutants._eager import after_reference


def corrupt(*, seq_lens, buffers, **_) -> None:
    bs = seq_lens.shape[0]
    kv = seq_lens.to(torch.int32)
    # Defect: cumsum - x is the exclusive scan; the contract wants the inclusive one at 1..bs.
    buffers.cu_seqlens_k[1 : bs + 1].copy_(torch.cumsum(kv, dim=0, dtype=torch.int32) - kv)


fill_draft_extend_metadata = after_reference(corrupt)
