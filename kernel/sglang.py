"""The kernel under SGLang's own name and signature: `fused_dsa_draft_extend_metadata(...)`.

SGLang swaps it in by an import,

    from kernel.sglang import fused_dsa_draft_extend_metadata

and keeps calling it as it calls its own (python/sglang/srt/layers/attention/triton_ops/dsa_metadata.py):
the buffers one by one, the per-request ones cut to bs, host ints for the batch. Like SGLang's, it
stores 0 into element 0 of both cu buffers. What differs: one compiled kernel serves every batch
size (SGLang's compiles once per bs); the totals and widths SGLang needs on the host (`total_len`,
`max_extend_len`, `max_total_len`, `static_extend_len`) are accepted and not needed, since the
kernel reads the lengths on the device, so the same captured graph stays right when they change;
and `max_seqlen_k=None` selects the graph-resident mode.
"""

from __future__ import annotations

import torch

from kernel import fill_draft_extend_metadata
from reference.buffers import DraftExtendMetadataBuffers


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
    buffers = DraftExtendMetadataBuffers(
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


fused_dsa_draft_extend_metadata.supports_graph_resident = True
