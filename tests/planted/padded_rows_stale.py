"""Planted: right on any one call, but it writes a padding request's page-table rows only the first
time it sees a buffer, on the reasoning that padding never changes. A runner's replays move the
padding (fewer live requests, so padding starts earlier): those rows then keep the live request's
slots from the step before. Only the engine's replay (or state across calls) shows it."""

import weakref

from reference import fill_draft_extend_metadata as reference

# The buffers it has written before, by identity and held weakly: new buffers that reuse a freed
# one's memory (or its id) are new.
_seen: dict[int, weakref.ref] = {}


def fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, *, nsa_index_topk, page_size, max_seqlen_k,
                               **profile_options):
    before = buffers.page_table_1.clone()
    reference(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers,
              nsa_index_topk=nsa_index_topk, page_size=page_size, max_seqlen_k=max_seqlen_k, **profile_options)
    known = _seen.get(id(buffers))
    if known is None or known() is not buffers:
        _seen[id(buffers)] = weakref.ref(buffers)
        return
    token = 0
    for kv, qo in zip(seq_lens.tolist(), extend_seq_lens.tolist()):
        if qo > kv:
            buffers.page_table_1[token : token + qo] = before[token : token + qo]
        token += qo
