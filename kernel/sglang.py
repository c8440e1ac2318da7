"""The kernels under SGLang's own names and signatures: `fused_dsa_decode_metadata(...)`,
`fused_dsa_target_verify_metadata(...)` and `fused_dsa_draft_extend_metadata(...)`.

SGLang swaps them in by an import,

    from kernel.sglang import fused_dsa_decode_metadata, fused_dsa_draft_extend_metadata, fused_dsa_target_verify_metadata

and keeps calling them as dsa_backend.py calls its own (python/sglang/kernels/ops/attention/dsa_metadata.py
on SGLang main): the buffers one by one, cut to bs as its per-bs graph metadata holds them, host ints
for the batch. They follow SGLang main's contract (the sglang-dsa engine profile): a draft-extend
padding request's causal lengths stop at 0 (sgl-project/sglang#30378), `page_table_1` may be None
where the page size is above 1 (only `real_page_table` is then written), `index_kpool` pools the
sparse lengths as the KPool package does (whose spelling of the page size, `physical_page_size`, is
taken beside `real_page_size`), and element 0 of both cu buffers gets 0. What differs: one compiled kernel
serves every batch size (SGLang's compile once per bs); the totals and widths SGLang's draft-extend
kernel needs on the host (`total_len`, `max_extend_len`, `max_total_len`) are accepted and not
needed, since the kernel reads the lengths on the device, so the same captured graph stays right when
they change; `static_extend_len` is passed on (the kernel then finds each request's first token
without a scan); and `max_seqlen_k=None` (decode: `max_len=None`) selects the
graph-resident mode.
"""

from __future__ import annotations

import torch

from reference.buffers import MetadataBuffers
from reference.engines import SGLANG_DSA

from . import fill_decode_metadata, fill_draft_extend_metadata, fill_target_verify_metadata

PADDING_FLOOR = SGLANG_DSA.padding_floor


def _page_size(real_page_size: int | None, physical_page_size: int | None) -> int:
    """The page size under either of SGLang's names for it: `real_page_size` (dsa_metadata.py) or
    `physical_page_size` (the dsa_kpool_metadata package)."""
    if real_page_size is None and physical_page_size is None:
        raise TypeError("missing the page size: real_page_size (or physical_page_size)")
    if real_page_size is not None and physical_page_size is not None and real_page_size != physical_page_size:
        raise ValueError(f"real_page_size={real_page_size} and physical_page_size={physical_page_size} disagree")
    return real_page_size if real_page_size is not None else physical_page_size


def _buffers(page_table_1, real_page_table, page_size: int, **named) -> MetadataBuffers:
    """The drop-ins' buffers as the kernel takes them: with page size 1 the real table is
    page_table_1 itself, as SGLang's kernels ignore their real_page_table there."""
    return MetadataBuffers(
        page_table_1=page_table_1,
        real_page_table=page_table_1 if page_size == 1 else real_page_table,
        **named,
    )


def fused_dsa_decode_metadata(
    seq_lens: torch.Tensor,
    req_pool_indices: torch.Tensor,
    req_to_token: torch.Tensor,
    cache_seqlens: torch.Tensor,
    cu_seqlens_k: torch.Tensor,
    page_table_1: torch.Tensor | None,
    dsa_cache_seqlens: torch.Tensor,
    dsa_cu_seqlens_k: torch.Tensor,
    real_page_table: torch.Tensor,
    bs: int,
    max_len: int | None,
    dsa_index_topk: int,
    real_page_size: int | None = None,
    index_kpool: int = 1,
    *,
    physical_page_size: int | None = None,
) -> None:
    page_size = _page_size(real_page_size, physical_page_size)
    if seq_lens.shape[0] != bs:
        seq_lens, req_pool_indices = seq_lens[:bs], req_pool_indices[:bs]
    buffers = _buffers(
        page_table_1, real_page_table, page_size,
        cache_seqlens_int32=cache_seqlens,
        cu_seqlens_k=cu_seqlens_k,
        nsa_seqlens_expanded=None,
        nsa_cache_seqlens_int32=dsa_cache_seqlens,
        nsa_cu_seqlens_k=dsa_cu_seqlens_k,
    )
    fill_decode_metadata(
        seq_lens, req_pool_indices, req_to_token, buffers,
        nsa_index_topk=dsa_index_topk, page_size=page_size, max_seqlen_k=max_len, zero_cu_heads=True, index_kpool=index_kpool,
    )


def fused_dsa_target_verify_metadata(
    seq_lens: torch.Tensor,
    req_pool_indices: torch.Tensor,
    req_to_token: torch.Tensor,
    cache_seqlens: torch.Tensor,
    cu_seqlens_k: torch.Tensor,
    page_table_1: torch.Tensor | None,
    seqlens_expanded: torch.Tensor,
    dsa_cache_seqlens: torch.Tensor,
    dsa_cu_seqlens_k: torch.Tensor,
    real_page_table: torch.Tensor,
    bs: int,
    max_seqlen_k: int | None,
    dsa_index_topk: int,
    real_page_size: int | None = None,
    next_n: int = 1,
    paged_mqa_ctx_lens_2d: torch.Tensor | None = None,
    index_kpool: int = 1,
    *,
    physical_page_size: int | None = None,
) -> None:
    page_size = _page_size(real_page_size, physical_page_size)
    if seq_lens.shape[0] != bs:
        seq_lens, req_pool_indices = seq_lens[:bs], req_pool_indices[:bs]
    buffers = _buffers(
        page_table_1, real_page_table, page_size,
        cache_seqlens_int32=cache_seqlens,
        cu_seqlens_k=cu_seqlens_k,
        nsa_seqlens_expanded=seqlens_expanded,
        nsa_cache_seqlens_int32=dsa_cache_seqlens,
        nsa_cu_seqlens_k=dsa_cu_seqlens_k,
        paged_mqa_ctx_lens_2d=paged_mqa_ctx_lens_2d,
    )
    fill_target_verify_metadata(
        seq_lens, req_pool_indices, req_to_token, buffers,
        nsa_index_topk=dsa_index_topk, page_size=page_size, max_seqlen_k=max_seqlen_k, next_n=next_n, zero_cu_heads=True,
        index_kpool=index_kpool,
    )


def fused_dsa_draft_extend_metadata(
    seq_lens: torch.Tensor,
    extend_seq_lens: torch.Tensor,
    req_pool_indices: torch.Tensor,
    req_to_token: torch.Tensor,
    cache_seqlens: torch.Tensor,
    cu_seqlens_k: torch.Tensor,
    page_table_1: torch.Tensor | None,
    seqlens_expanded: torch.Tensor,
    dsa_cache_seqlens: torch.Tensor,
    dsa_cu_seqlens_k: torch.Tensor,
    real_page_table: torch.Tensor,
    bs: int,
    total_len: int,
    max_seqlen_k: int | None,
    dsa_index_topk: int,
    real_page_size: int | None = None,
    max_extend_len: int = 1,
    max_total_len: int = 0,
    static_extend_len: bool = False,
    index_kpool: int = 1,
    *,
    physical_page_size: int | None = None,
) -> None:
    page_size = _page_size(real_page_size, physical_page_size)
    if seq_lens.shape[0] != bs:
        seq_lens, extend_seq_lens, req_pool_indices = seq_lens[:bs], extend_seq_lens[:bs], req_pool_indices[:bs]
    buffers = _buffers(
        page_table_1, real_page_table, page_size,
        cache_seqlens_int32=cache_seqlens,
        cu_seqlens_k=cu_seqlens_k,
        nsa_seqlens_expanded=seqlens_expanded,
        nsa_cache_seqlens_int32=dsa_cache_seqlens,
        nsa_cu_seqlens_k=dsa_cu_seqlens_k,
    )
    fill_draft_extend_metadata(
        seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers,
        nsa_index_topk=dsa_index_topk, page_size=page_size, max_seqlen_k=max_seqlen_k, zero_cu_heads=True,
        padding_floor=PADDING_FLOOR, index_kpool=index_kpool, static_extend_len=static_extend_len,
    )


for _drop_in in (fused_dsa_decode_metadata, fused_dsa_target_verify_metadata, fused_dsa_draft_extend_metadata):
    _drop_in.supports_graph_resident = True
    _drop_in.supports_page_table_1_none = True
