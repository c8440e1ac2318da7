"""Planted (the class SGLang's test_dsa_graph_metadata.py pins: draft-extend and target-verify
metadata keyed by batch size alone): on a later call on the same buffers at the same bs, in any
forward mode, it keeps the per-request lengths (cache_seqlens_int32, cu_seqlens_k) it wrote before,
as if one bs meant one batch. Target-verify's kv lengths then reach draft-extend's call."""

import weakref

from tests.planted._token_rows import after_shipped

_last_bs: dict[int, tuple[weakref.ref, int]] = {}


def _keyed_by_bs(mode_name, named, buffers, before, options):
    bs = named["seq_lens"].shape[0]
    known = _last_bs.get(id(buffers))
    _last_bs[id(buffers)] = (weakref.ref(buffers), bs)
    if known is not None and known[0]() is buffers and known[1] == bs:
        buffers.cache_seqlens_int32.copy_(before.cache_seqlens_int32)
        buffers.cu_seqlens_k.copy_(before.cu_seqlens_k)


fill_decode_metadata, fill_target_verify_metadata, fill_draft_extend_metadata = after_shipped(_keyed_by_bs)
