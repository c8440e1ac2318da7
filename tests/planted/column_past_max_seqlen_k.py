"""A planted bug for the triage walkthrough and the `--variant` test: the contract's result, plus one
column too many in page_table_1 (a `<=` where a column mask needs `<`), so every token row also
gets the slot at column max_seqlen_k, a cell the contract must leave untouched."""

from __future__ import annotations

import torch

from properties.mutants._eager import after_reference


def corrupt(*, extend_seq_lens, req_pool_indices, req_to_token, buffers, max_seqlen_k, **_) -> None:
    if max_seqlen_k < min(req_to_token.shape[1], buffers.page_table_1.shape[1]):
        rows = torch.repeat_interleave(req_to_token[req_pool_indices, max_seqlen_k], extend_seq_lens)
        buffers.page_table_1[: rows.shape[0], max_seqlen_k] = rows


fill_draft_extend_metadata = after_reference(corrupt)
