"""A stand-in with the signature and the observable behaviour of SGLang's fused draft-extend metadata
kernel, written with eager torch ops (no host sync: the total comes in as a host int): it stores 0
into element 0 of both cu buffers, takes the real page table by truncating division, and reads the
static width from extend_seq_lens[0] when told the widths are equal, and clamps a padding request's
causal lengths to 0, as SGLang main does (sgl-project/sglang#30378). Under the sglang domain and the
sglang-dsa profile it passes values; under the strict domain element 0 and negative slots fail it.
`tests/planted/padding_lengths.py` is the same with other floors."""

import torch


def fused_dsa_draft_extend_metadata(
    seq_lens, extend_seq_lens, req_pool_indices, req_to_token, cache_seqlens, cu_seqlens_k, page_table_1,
    seqlens_expanded, dsa_cache_seqlens, dsa_cu_seqlens_k, real_page_table, bs, total_len, max_seqlen_k,
    dsa_index_topk, real_page_size, max_extend_len, max_total_len, static_extend_len=False,
):
    fill_with_floor(**locals(), floor=0)


def fill_with_floor(
    seq_lens, extend_seq_lens, req_pool_indices, req_to_token, cache_seqlens, cu_seqlens_k, page_table_1,
    seqlens_expanded, dsa_cache_seqlens, dsa_cu_seqlens_k, real_page_table, bs, total_len, max_seqlen_k,
    dsa_index_topk, real_page_size, max_extend_len, max_total_len, static_extend_len, floor,
):
    """The stand-in, with a padding request's causal lengths clamped to `floor` (None: not at all)."""
    assert total_len <= max_total_len and total_len <= bs * max_extend_len
    cache = seq_lens[:bs].to(torch.int32)
    cache_seqlens[:bs].copy_(cache)
    cu_seqlens_k[:1].zero_()
    cu_seqlens_k[1 : bs + 1].copy_(torch.cumsum(cache, 0, dtype=torch.int32))
    dsa_cu_seqlens_k[:1].zero_()
    if total_len == 0:
        return
    qo = extend_seq_lens[:bs].to(torch.int64)
    if static_extend_len:
        qo = qo[:1].expand(bs)
    owner = torch.repeat_interleave(torch.arange(bs, device=seq_lens.device), qo, output_size=total_len)
    first = torch.cumsum(qo, 0) - qo
    step = torch.arange(total_len, device=seq_lens.device) - first[owner]
    expanded = (seq_lens[owner].to(torch.int64) - qo[owner] + 1 + step).to(torch.int32)
    if floor is not None:
        expanded = expanded.clamp(min=floor)
    clipped = expanded.clamp(max=dsa_index_topk)
    seqlens_expanded[:total_len].copy_(expanded)
    dsa_cache_seqlens[:total_len].copy_(clipped)
    dsa_cu_seqlens_k[1 : total_len + 1].copy_(torch.cumsum(clipped, 0, dtype=torch.int32))
    rows = req_to_token[req_pool_indices[:bs][owner], :max_seqlen_k]
    page_table_1[:total_len, :max_seqlen_k].copy_(rows)
    if real_page_size > 1:
        real = torch.div(rows[:, ::real_page_size], real_page_size, rounding_mode="trunc")
        real_page_table[:total_len, : real.shape[1]].copy_(real)


def _rows_and_real(req_to_token, req_pool_indices, owner, page_table_1, real_page_table, max_len, real_page_size):
    """The page rows of each token's request and, for page sizes past 1, the real table by truncating
    division, as SGLang's kernels take `vals // real_page_size`."""
    rows = req_to_token[req_pool_indices[owner], :max_len]
    page_table_1[: rows.shape[0], :max_len].copy_(rows)
    if real_page_size > 1:
        real = torch.div(rows[:, ::real_page_size], real_page_size, rounding_mode="trunc")
        real_page_table[: real.shape[0], : real.shape[1]].copy_(real)


def fused_dsa_decode_metadata(
    seq_lens, req_pool_indices, req_to_token, cache_seqlens, cu_seqlens_k, page_table_1, dsa_cache_seqlens,
    dsa_cu_seqlens_k, real_page_table, bs, max_len, dsa_index_topk, real_page_size,
):
    """SGLang's fused decode kernel as it behaves: lengths and their clip to the top-k per request,
    0 into element 0 of both cu buffers, each request's row."""
    cu_seqlens_k[:1].zero_()
    dsa_cu_seqlens_k[:1].zero_()
    cache = seq_lens[:bs].to(torch.int32)
    clipped = cache.clamp(max=dsa_index_topk)
    cache_seqlens[:bs].copy_(cache)
    cu_seqlens_k[1 : bs + 1].copy_(torch.cumsum(cache, 0, dtype=torch.int32))
    dsa_cache_seqlens[:bs].copy_(clipped)
    dsa_cu_seqlens_k[1 : bs + 1].copy_(torch.cumsum(clipped, 0, dtype=torch.int32))
    owner = torch.arange(bs, device=seq_lens.device)
    _rows_and_real(req_to_token, req_pool_indices, owner, page_table_1, real_page_table, max_len, real_page_size)


def fused_dsa_target_verify_metadata(
    seq_lens, req_pool_indices, req_to_token, cache_seqlens, cu_seqlens_k, page_table_1, seqlens_expanded,
    dsa_cache_seqlens, dsa_cu_seqlens_k, real_page_table, bs, max_seqlen_k, dsa_index_topk, real_page_size, next_n,
    paged_mqa_ctx_lens_2d=None,
):
    """SGLang's fused target-verify kernel as it behaves: kv lengths seq_lens + next_n, each request's
    row next_n times, expanded lengths seq_len + 1 .. seq_len + next_n, the 2-D schedule lengths where
    given, 0 into element 0 of both cu buffers."""
    cu_seqlens_k[:1].zero_()
    dsa_cu_seqlens_k[:1].zero_()
    cache = (seq_lens[:bs] + next_n).to(torch.int32)
    cache_seqlens[:bs].copy_(cache)
    cu_seqlens_k[1 : bs + 1].copy_(torch.cumsum(cache, 0, dtype=torch.int32))
    steps = torch.arange(1, next_n + 1, device=seq_lens.device)
    expanded = (seq_lens[:bs, None] + steps[None, :]).reshape(-1).to(torch.int32)
    clipped = expanded.clamp(max=dsa_index_topk)
    seqlens_expanded[: expanded.shape[0]].copy_(expanded)
    dsa_cache_seqlens[: expanded.shape[0]].copy_(clipped)
    dsa_cu_seqlens_k[1 : expanded.shape[0] + 1].copy_(torch.cumsum(clipped, 0, dtype=torch.int32))
    if paged_mqa_ctx_lens_2d is not None:
        paged_mqa_ctx_lens_2d.copy_(cache[:, None].expand(-1, next_n))
    owner = torch.repeat_interleave(torch.arange(bs, device=seq_lens.device), next_n)
    _rows_and_real(req_to_token, req_pool_indices, owner, page_table_1, real_page_table, max_seqlen_k, real_page_size)
