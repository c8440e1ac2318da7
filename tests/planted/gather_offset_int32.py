"""Planted: the page_table_1 rows gathered from req_to_token at flat offsets formed in int32,
`req_pool_indices.int() * stride`. Right while a pool row's first cell lies below 2^31; past it (a
1M-column req_to_token past 2,147 pool rows) the offset wraps and the row is read from elsewhere in
the pool, or faults. No case the CPU tier can afford reaches the wrap: only the GPU tier's tables
past 2^31 cells (properties.past_int32) fail it."""

import torch

from reference.buffers import whole_storage
from reference.modes import forward_mode
from tests.planted._token_rows import shipped_fill, token_rows


def _planted(mode_name: str):
    mode = forward_mode(mode_name)

    def fill(*args, **options):
        named = dict(zip(mode.inputs, args))
        buffers = args[len(mode.inputs)]
        shipped_fill(mode)(*args, **options)
        table = buffers.page_table_1
        if table is None:
            return
        req_to_token = named["req_to_token"]
        pool = whole_storage(req_to_token)
        # The defect: each pool row's first cell in int32.
        starts = named["req_pool_indices"].to(torch.int32) * req_to_token.stride(0) + req_to_token.storage_offset()
        width = table.shape[1] if options.get("max_seqlen_k") is None else min(options["max_seqlen_k"], table.shape[1])
        for request, (first, tokens, kv) in enumerate(token_rows(mode_name, named, options)):
            live = min(kv, width)
            cells = starts[request] + torch.arange(live, dtype=torch.int32, device=table.device) * req_to_token.stride(1)
            table[first:first + tokens, :live] = pool[cells.long()]

    return fill


fill_decode_metadata = _planted("decode")
fill_target_verify_metadata = _planted("target-verify")
fill_draft_extend_metadata = _planted("draft-extend")
