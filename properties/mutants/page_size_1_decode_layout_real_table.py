"""With page_size == 1, writes a per-request (decode-layout) table into real_page_table, which
aliases page_table_1: models page_size == 1 handling that forgets the alias, so per-token rows
of page_table_1 get overwritten by per-request rows.
"""

from __future__ import annotations

from properties.mutants._eager import after_reference


def corrupt(*, seq_lens, req_pool_indices, req_to_token, buffers, page_size, max_seqlen_k, **_) -> None:
    if page_size == 1:
        rows = min(seq_lens.shape[0], buffers.real_page_table.shape[0])
        # Defect: real_page_table is page_table_1 here, and its rows are per token, not per request.
        per_request = req_to_token[req_pool_indices[:rows], :max_seqlen_k]
        buffers.real_page_table[:rows, :max_seqlen_k].copy_(per_request)


fill_draft_extend_metadata = after_reference(corrupt)
