"""Zero-fills each written row of page_table_1 across its full width, clobbering the columns past max_seqlen_k.
Models a padding bug: clearing whole graph-buffer rows instead of only the written prefix.
"""

from __future__ import annotations

from properties.mutants._eager import before_reference


def corrupt(*, extend_seq_lens, buffers, **_) -> None:
    total = int(extend_seq_lens.sum())
    # Defect: the whole row is cleared, not just [:max_seqlen_k] (which the copy overwrites anyway).
    buffers.page_table_1[:total].zero_()


fill_draft_extend_metadata = before_reference(corrupt)
