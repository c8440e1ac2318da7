"""Zeroes nsa_seqlens_expanded and nsa_cache_seqlens_int32 past the `total` written tokens (their padding).
Models a padding bug: zero-filling the graph buffers up to capacity instead of leaving padding untouched.
"""

from __future__ import annotations

from properties.mutants._eager import after_reference


def corrupt(*, extend_seq_lens, buffers, **_) -> None:
    total = int(extend_seq_lens.sum())
    # Defect: padding must keep its old contents.
    buffers.nsa_seqlens_expanded[total:].zero_()
    buffers.nsa_cache_seqlens_int32[total:].zero_()


fill_draft_extend_metadata = after_reference(corrupt)
