"""Planted (sgl-project/sglang#19016's class): where a request's kv length passes max_seqlen_k (seq +
next_n at the context limit), it writes the row's columns past the width too, into what lies after
the row's view. A fused kernel that silently runs past the page table's width does this."""

from reference.buffers import whole_storage
from tests.planted._token_rows import after_shipped, token_rows


def _past_width(mode_name, named, buffers, before, options):
    table, width = buffers.page_table_1, options["max_seqlen_k"]
    if table is None:
        return
    storage = whole_storage(table)
    for b, (first, tokens, kv) in enumerate(token_rows(mode_name, named, options)):
        if kv <= width:
            continue
        row = named["req_to_token"][named["req_pool_indices"][b]]
        for token in range(first, first + tokens):
            start = table.storage_offset() + token * table.stride(0) + width
            storage[start : start + kv - width] = row[width:kv]


fill_decode_metadata, fill_target_verify_metadata, fill_draft_extend_metadata = after_shipped(_past_width)
