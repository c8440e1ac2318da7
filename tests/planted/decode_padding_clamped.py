"""Planted: SGLang's decode convention, right but for one thing: it keeps each request's length at
least 1, as draft-extend's padding requests are kept. A decode request of seq_len 0 (a bucket padded
with 0, as some engines pad it) then reads one slot where the eager decode branch reads none."""

from tests.standins import sglang_like


def fused_dsa_decode_metadata(
    seq_lens, req_pool_indices, req_to_token, cache_seqlens, cu_seqlens_k, page_table_1, dsa_cache_seqlens,
    dsa_cu_seqlens_k, real_page_table, bs, max_len, dsa_index_topk, real_page_size,
):
    call = dict(locals())
    sglang_like.fused_dsa_decode_metadata(**call)
    clipped = seq_lens[:bs].clamp(min=1, max=dsa_index_topk).to(dsa_cache_seqlens.dtype)
    dsa_cache_seqlens[:bs].copy_(clipped)
    dsa_cu_seqlens_k[1 : bs + 1].copy_(clipped.cumsum(0, dtype=dsa_cu_seqlens_k.dtype))
