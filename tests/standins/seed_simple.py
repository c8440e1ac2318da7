"""A stand-in with the seed's option-1 signature, `fill_draft_extend_metadata_fused_simple`: the two
length vectors, allocated here; reading their size from the device is its one host sync, as in
the seed."""

from kernel import expand_seqlens


def fill_draft_extend_metadata_fused_simple(extend_seq_lens, seq_lens, nsa_index_topk):
    return expand_seqlens(extend_seq_lens, seq_lens, nsa_index_topk)
