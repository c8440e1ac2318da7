"""Fills nsa_cu_seqlens_k past element `total` with the last prefix value (the flash-attn padding convention).
Models a padding bug: writing the sentinel region of a cu buffer.
"""

from __future__ import annotations

from properties.mutants._eager import after_reference


def corrupt(*, extend_seq_lens, buffers, **_) -> None:
    total = int(extend_seq_lens.sum())
    # Defect: elements past total are padding and must stay untouched.
    buffers.nsa_cu_seqlens_k[total + 1 :].copy_(buffers.nsa_cu_seqlens_k[total].expand(
        buffers.nsa_cu_seqlens_k.shape[0] - total - 1
    ))


fill_draft_extend_metadata = after_reference(corrupt)
