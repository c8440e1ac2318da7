"""Planted: the shipped kernel, right everywhere, but past 512 requests it reads the token total with
`.item()` first, a host sync at large batches only. no_sync must find it and shrink it to bs 513."""

import kernel


def fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options):
    if seq_lens.shape[0] > 512 and extend_seq_lens.sum().item() < 0:
        raise AssertionError("unreachable: lengths are never negative")
    kernel.fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options)


fill_draft_extend_metadata.supports_graph_resident = True
