"""Planted: the reference for up to two requests, and an exception past that, so the gate must show
a variant that raises as a failing row with the exception and the shrunk case."""

from reference import fill_draft_extend_metadata as reference


def fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, *, nsa_index_topk, page_size, max_seqlen_k):
    if seq_lens.shape[0] > 2:
        raise ValueError("three requests or more are not supported")
    reference(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers,
              nsa_index_topk=nsa_index_topk, page_size=page_size, max_seqlen_k=max_seqlen_k)
