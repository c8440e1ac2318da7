"""The oracle of record: SGLang's eager draft-extend metadata code, as it reads in the NSA backend.

`init_forward_metadata_replay_cuda_graph`, branch `forward_mode.is_draft_extend(include_v2=True)`,
together with the lines around it that build `cache_seqlens`, `page_indices` and the NSA cu buffer.
It syncs with the host twice (`.tolist()`), loops over the batch in Python and issues a dozen small
ops; that is what the kernel replaces, and this file is what it is judged against. Two later
changes of SGLang's are in it: padded graph buckets (a request with extend_seq_lens > seq_lens has
each causal length clamped to at least 1, as SGLang's DSA fix does) and idle batches (bs = 0 writes
nothing).
"""

from __future__ import annotations

import torch

from reference.buffers import DraftExtendMetadataBuffers


def compute_nsa_seqlens(original_seq_lens: torch.Tensor, nsa_index_topk: int) -> torch.Tensor:
    return original_seq_lens.clamp(max=nsa_index_topk)


def transform_table_1_to_real(page_table_1: torch.Tensor, page_size: int) -> torch.Tensor:
    return page_table_1[:, ::page_size] // page_size


def expand_seqlens(
    extend_seq_lens: torch.Tensor,
    seq_lens: torch.Tensor,
    nsa_index_topk: int,
    *,
    total_tokens: int | None = None,
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
    # would see causal lengths of 0 and below; SGLang's DSA fix clamps them to 1.
    seqlens_expanded = seqlens_expanded.clamp(min=1)
    nsa_cache_seqlens = compute_nsa_seqlens(seqlens_expanded, nsa_index_topk)
    return seqlens_expanded, nsa_cache_seqlens


def expand_seqlens_into(
    extend_seq_lens: torch.Tensor,
    seq_lens: torch.Tensor,
    nsa_index_topk: int,
    out_seqlens_expanded: torch.Tensor,
    out_nsa_cache_seqlens: torch.Tensor,
) -> None:
    seqlens_expanded, nsa_cache_seqlens = expand_seqlens(extend_seq_lens, seq_lens, nsa_index_topk)
    out_seqlens_expanded[: seqlens_expanded.shape[0]].copy_(seqlens_expanded)
    out_nsa_cache_seqlens[: seqlens_expanded.shape[0]].copy_(nsa_cache_seqlens)


def fill_draft_extend_metadata(
    seq_lens: torch.Tensor,
    extend_seq_lens: torch.Tensor,
    req_pool_indices: torch.Tensor,
    req_to_token: torch.Tensor,
    buffers: DraftExtendMetadataBuffers,
    *,
    nsa_index_topk: int,
    page_size: int,
    max_seqlen_k: int,
) -> None:
    bs = seq_lens.shape[0]
    metadata = buffers

    cache_seqlens = seq_lens.to(torch.int32)
    cumulate_cache_seqlens = torch.cumsum(cache_seqlens, dim=0, dtype=torch.int32)

    page_indices = req_to_token[req_pool_indices, :max_seqlen_k]
    page_indices = torch.repeat_interleave(page_indices, repeats=extend_seq_lens, dim=0)

    seqlens_expanded, nsa_cache_seqlens = expand_seqlens(extend_seq_lens, seq_lens, nsa_index_topk)

    metadata.cache_seqlens_int32[:bs].copy_(cache_seqlens)
    metadata.cu_seqlens_k[1 : bs + 1].copy_(cumulate_cache_seqlens)
    metadata.page_table_1[: page_indices.shape[0], :max_seqlen_k].copy_(page_indices)
    metadata.nsa_seqlens_expanded[: seqlens_expanded.shape[0]].copy_(seqlens_expanded)
    metadata.nsa_cache_seqlens_int32[: seqlens_expanded.shape[0]].copy_(nsa_cache_seqlens)
    metadata.nsa_cu_seqlens_k[1 : 1 + seqlens_expanded.shape[0]].copy_(
        torch.cumsum(nsa_cache_seqlens, dim=0, dtype=torch.int32)
    )

    if page_size > 1:
        real_page_table = transform_table_1_to_real(page_indices, page_size)
        metadata.real_page_table[: real_page_table.shape[0], : real_page_table.shape[1]].copy_(
            real_page_table
        )
