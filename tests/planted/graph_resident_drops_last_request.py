"""Planted: the shipped kernel, declaring graph-resident mode (max_seqlen_k=None) and wrong only there:
it leaves the batch's last request out, so its lengths, its prefix sums and its tokens' rows are never
written. A declared launch form is required: the gate and pytest must fail it, not report an xfail."""

import kernel


def fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, *, max_seqlen_k, **options):
    if max_seqlen_k is None and seq_lens.shape[0] > 1:
        seq_lens, extend_seq_lens, req_pool_indices = seq_lens[:-1], extend_seq_lens[:-1], req_pool_indices[:-1]
    kernel.fill_draft_extend_metadata(
        seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, max_seqlen_k=max_seqlen_k, **options
    )


fill_draft_extend_metadata.supports_graph_resident = True
