"""A planted bug that the pinned edge examples miss and generated cases find: on its path for small
calls (one tile: at most 8 requests over at most 4,096 columns), the kernel takes req_to_token's rows
to be packed (its row stride to be its width), so page_table_1 reads the wrong slots where the
pool's rows are padded, as no edge example's are. tests/test_database.py uses it to tell a failure
replayed from the example database from one the edge examples would find anyway; its failures,
small by construction, shrink fast."""

from __future__ import annotations

import torch

from properties.mutants._eager import after_reference


def corrupt(*, extend_seq_lens, req_pool_indices, req_to_token, buffers, max_seqlen_k, **_) -> None:
    if req_pool_indices.shape[0] <= 8 and max_seqlen_k <= 4096:
        packed = req_to_token.as_strided(req_to_token.shape, (req_to_token.shape[1], 1))
        rows = torch.repeat_interleave(packed[req_pool_indices, :max_seqlen_k], extend_seq_lens, dim=0)
        buffers.page_table_1[: rows.shape[0], :max_seqlen_k] = rows


fill_draft_extend_metadata = after_reference(corrupt)
