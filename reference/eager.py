"""The oracle of record: SGLang's eager replay-metadata code, as it reads in the DSA (formerly NSA)
backend, one function per forward mode.

Draft-extend is the seed's: `init_forward_metadata_replay_cuda_graph`, branch
`forward_mode.is_draft_extend(include_v2=True)`, together with the lines around it that build
`cache_seqlens`, `page_indices` and the NSA cu buffer. It syncs with the host twice (`.tolist()`),
loops over the batch in Python and issues a dozen small ops; that is what the kernel replaces. Two
later changes of SGLang's are in it: padded graph buckets (a request with extend_seq_lens > seq_lens
has each causal length clamped to at least `padding_floor`: 0 as SGLang's DSA kernels clamp them, 1
as its DeepSeek-V4 backend does) and idle batches (bs = 0 writes nothing). Decode and target-verify are the eager branches of the same replay path in
dsa_backend.py (`_apply_cuda_graph_metadata`, `forward_mode.is_decode_or_idle()` and
`forward_mode.is_target_verify()`, where the fused kernels are not used), with the lines after the
branches that fill the sparse cu buffer and the real page table. SGLang's graph metadata there are
per-bs slices of the captured buffers, so its whole-buffer copies are the [:bs] prefixes here.

Two options of SGLang main are in every mode: `index_kpool` (GLM's KPool: the sparse length of a
token of length n is min(n // k * k, topk) + n % k) and a `page_table_1` of None (page size > 1: only
the real page table is written). The reference writes every column below max_seqlen_k, as the
full-width profile does; under a live-prefix profile (`reference.engines`) the columns past a row's
kv length are what the comparison then accepts either way. So every fill takes the profile's
`live_prefix` as the kernels do, and writes full width whatever it says. Draft-extend takes SGLang's
`static_extend_len` too, the caller's promise that every request extends the same number of tokens
(its draft-extend V2 of static width): a promise changes no output, so the reference reads it as
such and computes the same thing.
"""

from __future__ import annotations

import torch

from reference.buffers import MetadataBuffers
from reference.engines import DEFAULT_PROFILE, engine_profile
from reference.modes import DRAFT_EXTEND, FORWARD_MODES

DEFAULT_PADDING_FLOOR = DRAFT_EXTEND.length_floor(engine_profile(DEFAULT_PROFILE))


def compute_nsa_seqlens(original_seq_lens: torch.Tensor, nsa_index_topk: int, index_kpool: int = 1) -> torch.Tensor:
    if index_kpool == 1:
        return original_seq_lens.clamp(max=nsa_index_topk)
    pooled = torch.div(original_seq_lens, index_kpool, rounding_mode="floor") * index_kpool
    return pooled.clamp(max=nsa_index_topk) + original_seq_lens.remainder(index_kpool)


def transform_table_1_to_real(page_table_1: torch.Tensor, page_size: int) -> torch.Tensor:
    return page_table_1[:, ::page_size] // page_size


def expand_seqlens(
    extend_seq_lens: torch.Tensor,
    seq_lens: torch.Tensor,
    nsa_index_topk: int,
    *,
    total_tokens: int | None = None,
    padding_floor: int = DEFAULT_PADDING_FLOOR,
    index_kpool: int = 1,
) -> tuple[torch.Tensor, torch.Tensor]:
    extend_seq_lens_cpu = extend_seq_lens.tolist()
    seqlens_expanded = torch.cat(
        [
            torch.arange(
                kv_len - qo_len + 1,
                kv_len + 1,
                dtype=torch.int32,
                device=seq_lens.device,
            )
            for qo_len, kv_len in zip(
                extend_seq_lens_cpu,
                seq_lens.tolist(),
                strict=True,
            )
        ]
        # An idle batch (bs = 0, as DP attention runs) expands to no tokens.
        or [torch.empty(0, dtype=torch.int32, device=seq_lens.device)]
    )
    # Graph-bucket padding requests (extend_seq_lens > seq_lens: seq_len 1 or 0 with the draft width)
    # would see causal lengths of 0 and below: the engine's padding floor lifts them.
    seqlens_expanded = seqlens_expanded.clamp(min=padding_floor)
    nsa_cache_seqlens = compute_nsa_seqlens(seqlens_expanded, nsa_index_topk, index_kpool)
    return seqlens_expanded, nsa_cache_seqlens


def expand_seqlens_into(
    extend_seq_lens: torch.Tensor,
    seq_lens: torch.Tensor,
    nsa_index_topk: int,
    out_seqlens_expanded: torch.Tensor,
    out_nsa_cache_seqlens: torch.Tensor,
    *,
    padding_floor: int = DEFAULT_PADDING_FLOOR,
    index_kpool: int = 1,
) -> None:
    seqlens_expanded, nsa_cache_seqlens = expand_seqlens(
        extend_seq_lens, seq_lens, nsa_index_topk, padding_floor=padding_floor, index_kpool=index_kpool
    )
    out_seqlens_expanded[: seqlens_expanded.shape[0]].copy_(seqlens_expanded)
    out_nsa_cache_seqlens[: seqlens_expanded.shape[0]].copy_(nsa_cache_seqlens)


def _page_table_1(buffers: MetadataBuffers, page_indices: torch.Tensor, max_seqlen_k: int) -> None:
    """The token-granular page table, where the caller has one (page size > 1 may pass None)."""
    if buffers.page_table_1 is not None:
        buffers.page_table_1[: page_indices.shape[0], :max_seqlen_k].copy_(page_indices)


def _sparse_and_real_tables(buffers: MetadataBuffers, dsa_cache_seqlens, page_indices, page_size: int) -> None:
    """What the replay path does after every mode's branch: the sparse prefix sum and, for
    page_size > 1, the real page table."""
    buffers.nsa_cu_seqlens_k[1 : 1 + dsa_cache_seqlens.shape[0]].copy_(torch.cumsum(dsa_cache_seqlens, dim=0, dtype=torch.int32))
    if page_size > 1:
        real_table = transform_table_1_to_real(page_indices, page_size)
        buffers.real_page_table[: real_table.shape[0], : real_table.shape[1]].copy_(real_table)


def fill_draft_extend_metadata(
    seq_lens: torch.Tensor,
    extend_seq_lens: torch.Tensor,
    req_pool_indices: torch.Tensor,
    req_to_token: torch.Tensor,
    buffers: MetadataBuffers,
    *,
    nsa_index_topk: int,
    page_size: int,
    max_seqlen_k: int,
    padding_floor: int = DEFAULT_PADDING_FLOOR,
    index_kpool: int = 1,
    live_prefix: bool = False,
    static_extend_len: bool = False,
) -> None:
    bs = seq_lens.shape[0]
    metadata = buffers

    cache_seqlens = seq_lens.to(torch.int32)
    cumulate_cache_seqlens = torch.cumsum(cache_seqlens, dim=0, dtype=torch.int32)

    page_indices = req_to_token[req_pool_indices, :max_seqlen_k]
    page_indices = torch.repeat_interleave(page_indices, repeats=extend_seq_lens, dim=0)

    seqlens_expanded, nsa_cache_seqlens = expand_seqlens(
        extend_seq_lens, seq_lens, nsa_index_topk, padding_floor=padding_floor, index_kpool=index_kpool
    )

    metadata.cache_seqlens_int32[:bs].copy_(cache_seqlens)
    metadata.cu_seqlens_k[1 : bs + 1].copy_(cumulate_cache_seqlens)
    _page_table_1(metadata, page_indices, max_seqlen_k)
    metadata.nsa_seqlens_expanded[: seqlens_expanded.shape[0]].copy_(seqlens_expanded)
    metadata.nsa_cache_seqlens_int32[: seqlens_expanded.shape[0]].copy_(nsa_cache_seqlens)

    _sparse_and_real_tables(metadata, nsa_cache_seqlens, page_indices, page_size)


def fill_decode_metadata(
    seq_lens: torch.Tensor,
    req_pool_indices: torch.Tensor,
    req_to_token: torch.Tensor,
    buffers: MetadataBuffers,
    *,
    nsa_index_topk: int,
    page_size: int,
    max_seqlen_k: int,
    index_kpool: int = 1,
    live_prefix: bool = False,
) -> None:
    """Branch `forward_mode.is_decode_or_idle()`: one token per request over its seq_len (SGLang
    passes the page table's width as `max_len`, here `max_seqlen_k`)."""
    bs = seq_lens.shape[0]
    metadata = buffers

    cache_seqlens = seq_lens.to(torch.int32)
    metadata.cache_seqlens_int32[:bs].copy_(cache_seqlens)
    metadata.cu_seqlens_k[1 : bs + 1].copy_(torch.cumsum(cache_seqlens, dim=0, dtype=torch.int32))
    page_indices = req_to_token[req_pool_indices, :max_seqlen_k]
    _page_table_1(metadata, page_indices, max_seqlen_k)
    dsa_cache_seqlens = compute_nsa_seqlens(cache_seqlens, nsa_index_topk, index_kpool)
    metadata.nsa_cache_seqlens_int32[:bs].copy_(dsa_cache_seqlens)

    _sparse_and_real_tables(metadata, dsa_cache_seqlens, page_indices, page_size)


def fill_target_verify_metadata(
    seq_lens: torch.Tensor,
    req_pool_indices: torch.Tensor,
    req_to_token: torch.Tensor,
    buffers: MetadataBuffers,
    *,
    nsa_index_topk: int,
    page_size: int,
    max_seqlen_k: int,
    next_n: int,
    index_kpool: int = 1,
    live_prefix: bool = False,
) -> None:
    """Branch `forward_mode.is_target_verify()`: next_n tokens per request (next_n =
    speculative_num_draft_tokens) over seq_len + next_n, whose causal lengths are seq_len + 1 ..
    seq_len + next_n (SGLang's `seqlens_expand_triton` over constant extend lengths next_n).
    `paged_mqa_ctx_lens_2d`, where given, is the kv length at every draft position, as the backend's
    2-D schedule lengths (`cache_seqlens_int32.view(-1, 1).expand(-1, next_n)`) hold it."""
    bs = seq_lens.shape[0]
    metadata = buffers

    cache_seqlens = (seq_lens + next_n).to(torch.int32)
    metadata.cache_seqlens_int32[:bs].copy_(cache_seqlens)
    metadata.cu_seqlens_k[1 : bs + 1].copy_(torch.cumsum(cache_seqlens, dim=0, dtype=torch.int32))
    page_indices = req_to_token[req_pool_indices, :max_seqlen_k]
    page_indices = torch.repeat_interleave(page_indices, repeats=next_n, dim=0)
    _page_table_1(metadata, page_indices, max_seqlen_k)

    steps = torch.arange(1, next_n + 1, dtype=torch.int32, device=seq_lens.device)
    seqlens_expanded = (seq_lens.to(torch.int32)[:, None] + steps[None, :]).reshape(-1)
    metadata.nsa_seqlens_expanded[: seqlens_expanded.shape[0]].copy_(seqlens_expanded)
    dsa_cache_seqlens = compute_nsa_seqlens(seqlens_expanded, nsa_index_topk, index_kpool)
    metadata.nsa_cache_seqlens_int32[: seqlens_expanded.shape[0]].copy_(dsa_cache_seqlens)
    if metadata.paged_mqa_ctx_lens_2d is not None:
        metadata.paged_mqa_ctx_lens_2d[:bs, :next_n].copy_(cache_seqlens.view(-1, 1).expand(-1, next_n))

    _sparse_and_real_tables(metadata, dsa_cache_seqlens, page_indices, page_size)


FILLS = {name: globals()[mode.fill_name] for name, mode in FORWARD_MODES.items()}
