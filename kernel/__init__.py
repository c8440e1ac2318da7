"""The shipped implementation of the contract in `reference/`.

SGLANG_NSA_USE_TRITON_METADATA=0 (read at every call), or Triton failing to import, routes these
same functions to the reference path, after the same argument checks.
"""

from __future__ import annotations

import torch

from kernel._environ import Switch
from kernel.validation import check_call, check_expand_call, check_values, validation_requested
from reference import eager
from reference.buffers import DraftExtendMetadataBuffers

try:
    from kernel import draft_extend_metadata as _triton_path
except ImportError:
    _triton_path = None

TRITON_AVAILABLE = _triton_path is not None


_USE_TRITON = Switch("SGLANG_NSA_USE_TRITON_METADATA", default_on=True, off_values=("0", "false", "False"))


def triton_enabled() -> bool:
    """Whether calls take the Triton path now."""
    return TRITON_AVAILABLE and _USE_TRITON.on()


def fill_draft_extend_metadata(
    seq_lens: torch.Tensor,
    extend_seq_lens: torch.Tensor,
    req_pool_indices: torch.Tensor,
    req_to_token: torch.Tensor,
    buffers: DraftExtendMetadataBuffers,
    *,
    nsa_index_topk: int,
    page_size: int,
    max_seqlen_k: int | None,
    validate: bool | None = None,
    zero_cu_heads: bool = False,
) -> None:
    """Fill every draft-extend metadata buffer for one step (see README.md for the contract).

    max_seqlen_k=None selects the graph-resident mode: max(seq_lens) is taken on the device.
    zero_cu_heads=True also stores 0 into element 0 of both cu buffers, as SGLang's kernel does.
    """
    if triton_enabled():
        return _triton_path.fill_draft_extend_metadata(
            seq_lens,
            extend_seq_lens,
            req_pool_indices,
            req_to_token,
            buffers,
            nsa_index_topk=nsa_index_topk,
            page_size=page_size,
            max_seqlen_k=max_seqlen_k,
            validate=validate,
            zero_cu_heads=zero_cu_heads,
        )
    if max_seqlen_k is None:
        # The reference path has no graph-resident form: it reads the longest sequence from the
        # device (a sync, as the eager path always makes).
        check_call(
            seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers,
            nsa_index_topk=nsa_index_topk, page_size=page_size, max_seqlen_k=0,
        )
        max_seqlen_k = int(seq_lens.max())
    shape = check_call(
        seq_lens,
        extend_seq_lens,
        req_pool_indices,
        req_to_token,
        buffers,
        nsa_index_topk=nsa_index_topk,
        page_size=page_size,
        max_seqlen_k=max_seqlen_k,
    )
    if validation_requested(validate):
        check_values(
            seq_lens,
            extend_seq_lens,
            token_capacity=shape.token_capacity,
            max_seqlen_k=max_seqlen_k,
            req_pool_indices=req_pool_indices,
            pool_size=req_to_token.shape[0],
            nsa_index_topk=nsa_index_topk,
        )
    eager.fill_draft_extend_metadata(
        seq_lens,
        extend_seq_lens,
        req_pool_indices,
        req_to_token,
        buffers,
        nsa_index_topk=nsa_index_topk,
        page_size=page_size,
        max_seqlen_k=max_seqlen_k,
    )
    if zero_cu_heads:
        buffers.cu_seqlens_k[:1].zero_()
        buffers.nsa_cu_seqlens_k[:1].zero_()


fill_draft_extend_metadata.supports_graph_resident = True


def expand_seqlens_into(
    extend_seq_lens: torch.Tensor,
    seq_lens: torch.Tensor,
    nsa_index_topk: int,
    out_seqlens_expanded: torch.Tensor,
    out_nsa_cache_seqlens: torch.Tensor,
    *,
    validate: bool | None = None,
) -> None:
    """seqlens_expanded and its clip to nsa_index_topk, written in place; no host sync."""
    if triton_enabled():
        return _triton_path.expand_seqlens_into(
            extend_seq_lens, seq_lens, nsa_index_topk, out_seqlens_expanded, out_nsa_cache_seqlens, validate=validate
        )
    shape = check_expand_call(extend_seq_lens, seq_lens, nsa_index_topk, out_seqlens_expanded, out_nsa_cache_seqlens)
    if validation_requested(validate):
        check_values(seq_lens, extend_seq_lens, token_capacity=shape.token_capacity, nsa_index_topk=nsa_index_topk)
    eager.expand_seqlens_into(extend_seq_lens, seq_lens, nsa_index_topk, out_seqlens_expanded, out_nsa_cache_seqlens)


def expand_seqlens(
    extend_seq_lens: torch.Tensor,
    seq_lens: torch.Tensor,
    nsa_index_topk: int,
    *,
    total_tokens: int | None = None,
    validate: bool | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(seqlens_expanded, nsa_cache_seqlens), allocated. One sync unless total_tokens is given."""
    if triton_enabled():
        return _triton_path.expand_seqlens(
            extend_seq_lens, seq_lens, nsa_index_topk, total_tokens=total_tokens, validate=validate
        )
    return eager.expand_seqlens(extend_seq_lens, seq_lens, nsa_index_topk)


__all__ = [
    "DraftExtendMetadataBuffers",
    "TRITON_AVAILABLE",
    "expand_seqlens",
    "expand_seqlens_into",
    "fill_draft_extend_metadata",
    "triton_enabled",
]
