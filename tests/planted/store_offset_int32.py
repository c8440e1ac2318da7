"""Planted: the page_table_1 rows stored at flat offsets formed in int32, `token.int() * stride`.
Right while a token row's first cell lies below 2^31; past it (2,148 token rows of 1M columns) the
offset wraps, the row lands elsewhere in the table, or faults, and its own cells keep what they held.
No case the CPU tier can afford reaches the wrap: only the GPU tier's tables past 2^31 cells
(properties.past_int32) fail it."""

import dataclasses

import torch

from reference.buffers import whole_storage
from reference.modes import forward_mode
from tests.planted._token_rows import shipped_fill, token_rows


def _planted(mode_name: str):
    mode = forward_mode(mode_name)

    def fill(*args, **options):
        named = dict(zip(mode.inputs, args))
        buffers = args[len(mode.inputs)]
        table = buffers.page_table_1
        if table is None:
            shipped_fill(mode)(*args, **options)
            return
        # The rows are computed apart, starting from the table's own cells so that those the profile
        # leaves untouched stay as they were, then stored row by row through the wrapped offsets.
        rows = table.clone()
        # At page size 1 the real table is page_table_1 itself, and goes with it.
        real = rows if options["page_size"] == 1 else buffers.real_page_table
        shipped_fill(mode)(*args[: len(mode.inputs)], dataclasses.replace(buffers, page_table_1=rows, real_page_table=real), **options)
        cells = whole_storage(table)
        columns = torch.arange(table.shape[1], dtype=torch.int32, device=table.device) * table.stride(1)
        tokens = sum(n for _, n, _ in token_rows(mode_name, named, options))
        # The defect: each token row's first cell in int32.
        starts = torch.arange(tokens, dtype=torch.int32, device=table.device) * table.stride(0) + table.storage_offset()
        for token in range(tokens):
            cells[(starts[token] + columns).long()] = rows[token]

    return fill


fill_decode_metadata = _planted("decode")
fill_target_verify_metadata = _planted("target-verify")
fill_draft_extend_metadata = _planted("draft-extend")
