"""Planted (the stale-tail class: sgl-project/sglang#31981, #32109, #33479, vllm#55692): it skips
rewriting a request's page rows when the same buffers saw the same pool row at the same kv length on
the call before, on the reasoning that its slots are the same. A pool row freed and given to a new
request of the same length holds other slots: those rows keep the previous call's."""

import weakref

from tests.planted._token_rows import after_shipped, token_rows

# By the buffers' identity (held weakly): (pool row, kv length) of each request of the last call.
_last: dict[int, tuple[weakref.ref, set]] = {}


def _cached(mode_name, named, buffers, before, options):
    rows = token_rows(mode_name, named, options)
    seen = {(int(pool), kv) for pool, (_, _, kv) in zip(named["req_pool_indices"].tolist(), rows)}
    known = _last.get(id(buffers))
    _last[id(buffers)] = (weakref.ref(buffers), seen)
    if known is None or known[0]() is not buffers or buffers.page_table_1 is None:
        return
    for pool, (first, tokens, kv) in zip(named["req_pool_indices"].tolist(), rows):
        if (int(pool), kv) in known[1]:
            buffers.page_table_1[first : first + tokens] = before.page_table_1[first : first + tokens]


fill_decode_metadata, fill_target_verify_metadata, fill_draft_extend_metadata = after_shipped(_cached)
