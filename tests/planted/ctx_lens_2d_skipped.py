"""Planted: SGLang's target-verify convention, right in every buffer but the optional one: it takes
`paged_mqa_ctx_lens_2d` and never writes it, so the 2-D schedule of a verify pass on SM100 keeps the
last step's lengths."""

from tests.standins import sglang_like


def fused_dsa_target_verify_metadata(
    seq_lens, req_pool_indices, req_to_token, cache_seqlens, cu_seqlens_k, page_table_1, seqlens_expanded,
    dsa_cache_seqlens, dsa_cu_seqlens_k, real_page_table, bs, max_seqlen_k, dsa_index_topk, real_page_size, next_n,
    paged_mqa_ctx_lens_2d=None,
):
    call = dict(locals())
    call["paged_mqa_ctx_lens_2d"] = None
    sglang_like.fused_dsa_target_verify_metadata(**call)
