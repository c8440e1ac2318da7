"""The kernels under SGLang's own names and signatures: `fused_dsa_decode_metadata(...)`,
`fused_dsa_target_verify_metadata(...)` and `fused_dsa_draft_extend_metadata(...)`.

SGLang swaps them in by an import,

    from kernel.sglang import fused_dsa_decode_metadata, fused_dsa_draft_extend_metadata, fused_dsa_target_verify_metadata

and keeps calling them as dsa_backend.py calls its own (python/sglang/srt/layers/attention/triton_ops/dsa_metadata.py):
the buffers one by one, cut to bs as its per-bs graph metadata holds them, host ints for the batch.
Like SGLang's, they store 0 into element 0 of both cu buffers. What differs: one compiled kernel
serves every batch size (SGLang's compile once per bs); the totals and widths SGLang's draft-extend
kernel needs on the host (`total_len`, `max_extend_len`, `max_total_len`, `static_extend_len`) are
accepted and not needed, since the kernel reads the lengths on the device, so the same captured
graph stays right when they change; and `max_seqlen_k=None` (decode: `max_len=None`) selects the
graph-resident mode.
"""

from __future__ import annotations

import torch

from kernel import fill_decode_metadata, fill_draft_extend_metadata, fill_target_verify_metadata
from reference.buffers import MetadataBuffers


def fused_dsa_decode_metadata(
    seq_lens: torch.Tensor,
    req_pool_indices: torch.Tensor,
    req_to_token: torch.Tensor,
    cache_seqlens: torch.Tensor,
    cu_seqlens_k: torch.Tensor,
    page_table_1: torch.Tensor,
    dsa_cache_seqlens: torch.Tensor,
    dsa_cu_seqlens_k: torch.Tensor,
    real_page_table: torch.Tensor,
    bs: int,
    max_len: int | None,
    dsa_index_topk: int,
    real_page_size: int,
) -> None:
    if seq_lens.shape[0] != bs:
        seq_lens, req_pool_indices = seq_lens[:bs], req_pool_indices[:bs]
    buffers = MetadataBuffers(
        cache_seqlens_int32=cache_seqlens,
        cu_seqlens_k=cu_seqlens_k,
        page_table_1=page_table_1,
        real_page_table=page_table_1 if real_page_size == 1 else real_page_table,
        nsa_seqlens_expanded=None,
        nsa_cache_seqlens_int32=dsa_cache_seqlens,
        nsa_cu_seqlens_k=dsa_cu_seqlens_k,
    )
    fill_decode_metadata(
        seq_lens, req_pool_indices, req_to_token, buffers,
        nsa_index_topk=dsa_index_topk, page_size=real_page_size, max_seqlen_k=max_len, zero_cu_heads=True,
    )


def fused_dsa_target_verify_metadata(
    seq_lens: torch.Tensor,
    req_pool_indices: torch.Tensor,
    req_to_token: torch.Tensor,
    cache_seqlens: torch.Tensor,
    cu_seqlens_k: torch.Tensor,
    page_table_1: torch.Tensor,
    seqlens_expanded: torch.Tensor,
    dsa_cache_seqlens: torch.Tensor,
    dsa_cu_seqlens_k: torch.Tensor,
    real_page_table: torch.Tensor,
    bs: int,
    max_seqlen_k: int | None,
    dsa_index_topk: int,
    real_page_size: int,
    next_n: int,
    paged_mqa_ctx_lens_2d: torch.Tensor | None = None,
) -> None:
    if seq_lens.shape[0] != bs:
        seq_lens, req_pool_indices = seq_lens[:bs], req_pool_indices[:bs]
    buffers = MetadataBuffers(
        cache_seqlens_int32=cache_seqlens,
        cu_seqlens_k=cu_seqlens_k,
        page_table_1=page_table_1,
        real_page_table=page_table_1 if real_page_size == 1 else real_page_table,
        nsa_seqlens_expanded=seqlens_expanded,
        nsa_cache_seqlens_int32=dsa_cache_seqlens,
        nsa_cu_seqlens_k=dsa_cu_seqlens_k,
        paged_mqa_ctx_lens_2d=paged_mqa_ctx_lens_2d,
    )
    fill_target_verify_metadata(
        seq_lens, req_pool_indices, req_to_token, buffers,
        nsa_index_topk=dsa_index_topk, page_size=real_page_size, max_seqlen_k=max_seqlen_k, next_n=next_n, zero_cu_heads=True,
    )


def fused_dsa_draft_extend_metadata(
    seq_lens: torch.Tensor,
    extend_seq_lens: torch.Tensor,
    req_pool_indices: torch.Tensor,
    req_to_token: torch.Tensor,
    cache_seqlens: torch.Tensor,
    cu_seqlens_k: torch.Tensor,
    page_table_1: torch.Tensor,
    seqlens_expanded: torch.Tensor,
    dsa_cache_seqlens: torch.Tensor,
    dsa_cu_seqlens_k: torch.Tensor,
    real_page_table: torch.Tensor,
    bs: int,
    total_len: int,
    max_seqlen_k: int | None,
    dsa_index_topk: int,
    real_page_size: int,
    max_extend_len: int,
    max_total_len: int,
    static_extend_len: bool = False,
) -> None:
    if seq_lens.shape[0] != bs:
        seq_lens, extend_seq_lens, req_pool_indices = seq_lens[:bs], extend_seq_lens[:bs], req_pool_indices[:bs]
    buffers = MetadataBuffers(
        cache_seqlens_int32=cache_seqlens,
        cu_seqlens_k=cu_seqlens_k,
        page_table_1=page_table_1,
        real_page_table=page_table_1 if real_page_size == 1 else real_page_table,
        nsa_seqlens_expanded=seqlens_expanded,
        nsa_cache_seqlens_int32=dsa_cache_seqlens,
        nsa_cu_seqlens_k=dsa_cu_seqlens_k,
    )
    fill_draft_extend_metadata(
        seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers,
        nsa_index_topk=dsa_index_topk, page_size=real_page_size, max_seqlen_k=max_seqlen_k, zero_cu_heads=True,
    )


for _drop_in in (fused_dsa_decode_metadata, fused_dsa_target_verify_metadata, fused_dsa_draft_extend_metadata):
    _drop_in.supports_graph_resident = True
