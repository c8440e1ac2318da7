"""Planted (ROCm/ATOM#2148's class): after the first call on a set of buffers, it leaves the
cu_seqlens_k entries of graph-bucket padding requests (seq_len 0 on pool row 0) as they were, on the
reasoning that padding adds nothing. A smaller live batch padded into a bucket a bigger one filled
keeps the bigger one's sums there."""

import weakref

from tests.planted._token_rows import after_shipped

_seen: dict[int, weakref.ref] = {}


def _pad_rows_kept(mode_name, named, buffers, before, options):
    known = _seen.get(id(buffers))
    _seen[id(buffers)] = weakref.ref(buffers)
    if known is None or known() is not buffers:
        return
    for b, (seq, pool) in enumerate(zip(named["seq_lens"].tolist(), named["req_pool_indices"].tolist())):
        if seq == 0 and pool == 0:
            buffers.cu_seqlens_k[b + 1] = before.cu_seqlens_k[b + 1]


fill_decode_metadata, fill_target_verify_metadata, fill_draft_extend_metadata = after_shipped(_pad_rows_kept)
