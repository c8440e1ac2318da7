"""The shipped implementation of the contracts in `reference/`, one function per forward mode.

SGLANG_DSA_USE_TRITON_METADATA=0 (read at every call; the seed's SGLANG_NSA_USE_TRITON_METADATA
answers while it is unset), or Triton failing to import, routes these same functions to the
reference path, after the same argument checks.
"""

from __future__ import annotations

import torch

from kernel._environ import OFF_VALUES, Switch
from kernel.validation import check_expand_call, check_mode_call, check_mode_values, check_values, validation_requested
from reference import eager
from reference.buffers import MetadataBuffers
from reference.modes import DECODE, DRAFT_EXTEND, TARGET_VERIFY, ForwardMode

try:
    from kernel import dsa_metadata as _triton_path
except ImportError:
    _triton_path = None

TRITON_AVAILABLE = _triton_path is not None


_USE_TRITON = Switch(
    "SGLANG_DSA_USE_TRITON_METADATA", alias="SGLANG_NSA_USE_TRITON_METADATA", default_on=True, off_values=OFF_VALUES
)


def triton_enabled() -> bool:
    """Whether calls take the Triton path now."""
    return TRITON_AVAILABLE and _USE_TRITON.on()


def _reference_fill(
    mode: ForwardMode, inputs: tuple, buffers: MetadataBuffers, *, nsa_index_topk, page_size, max_seqlen_k, next_n, validate,
    zero_cu_heads, padding_floor=None, index_kpool=1, live_prefix=True,
) -> None:
    """The reference path of one forward mode, after the Triton path's own checks. It writes every
    column below max_seqlen_k, which a live-prefix profile accepts in each tail cell."""
    profile_options = {"index_kpool": index_kpool, **({"padding_floor": padding_floor} if mode.pads_below_one else {})}
    checks = {"nsa_index_topk": nsa_index_topk, "page_size": page_size, "next_n": next_n, "live_prefix": live_prefix, **profile_options}
    if max_seqlen_k is None:
        # The reference path has no graph-resident form: it reads the longest kv length from the
        # device (a sync, as the eager path always makes).
        check_mode_call(mode, inputs, buffers, max_seqlen_k=0, **checks)
        seq_lens = dict(zip(mode.inputs, inputs))["seq_lens"]
        max_seqlen_k = int(seq_lens.max()) + (next_n if mode is TARGET_VERIFY else 0) if seq_lens.numel() else 0
    shape = check_mode_call(mode, inputs, buffers, max_seqlen_k=max_seqlen_k, **checks)
    if validation_requested(validate):
        check_mode_values(
            mode, inputs, token_capacity=shape.token_capacity, max_seqlen_k=max_seqlen_k, nsa_index_topk=nsa_index_topk,
            next_n=next_n, **profile_options,
        )
    fill_options = mode.call_options(nsa_index_topk=nsa_index_topk, page_size=page_size, max_seqlen_k=max_seqlen_k, next_n=next_n)
    eager.FILLS[mode.name](*inputs, buffers, **fill_options, **profile_options)
    if zero_cu_heads:
        buffers.cu_seqlens_k[:1].zero_()
        buffers.nsa_cu_seqlens_k[:1].zero_()


def fill_draft_extend_metadata(
    seq_lens: torch.Tensor,
    extend_seq_lens: torch.Tensor,
    req_pool_indices: torch.Tensor,
    req_to_token: torch.Tensor,
    buffers: MetadataBuffers,
    *,
    nsa_index_topk: int,
    page_size: int,
    max_seqlen_k: int | None,
    validate: bool | None = None,
    zero_cu_heads: bool = False,
    padding_floor: int = eager.DEFAULT_PADDING_FLOOR,
    index_kpool: int = 1,
    live_prefix: bool = True,
) -> None:
    """Fill every draft-extend metadata buffer for one step (see README.md for the contract).

    max_seqlen_k=None selects the graph-resident mode: max(seq_lens) is taken on the device.
    zero_cu_heads=True also stores 0 into element 0 of both cu buffers, as SGLang's kernel does.
    padding_floor (0 or 1) is the engine profile's least causal length of a graph-bucket padding
    request; index_kpool the KPool size of the sparse lengths; buffers.page_table_1 may be None where
    page_size > 1 (only the real page table is then written). live_prefix=True (the sglang-dsa and
    sglang-dsv4 profiles) lets each page row stop at its request's kv length; the Triton path then
    leaves the columns past it untouched.
    """
    options = dict(
        nsa_index_topk=nsa_index_topk, page_size=page_size, max_seqlen_k=max_seqlen_k, validate=validate,
        zero_cu_heads=zero_cu_heads, padding_floor=padding_floor, index_kpool=index_kpool, live_prefix=live_prefix,
    )
    if triton_enabled():
        return _triton_path.fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options)
    _reference_fill(DRAFT_EXTEND, (seq_lens, extend_seq_lens, req_pool_indices, req_to_token), buffers, next_n=1, **options)


def fill_decode_metadata(
    seq_lens: torch.Tensor,
    req_pool_indices: torch.Tensor,
    req_to_token: torch.Tensor,
    buffers: MetadataBuffers,
    *,
    nsa_index_topk: int,
    page_size: int,
    max_seqlen_k: int | None,
    validate: bool | None = None,
    zero_cu_heads: bool = False,
    index_kpool: int = 1,
    live_prefix: bool = True,
) -> None:
    """Fill every decode metadata buffer for one step (buffers.nsa_seqlens_expanded may be None);
    max_seqlen_k=None, zero_cu_heads, index_kpool, live_prefix and a page_table_1 of None as for
    draft-extend."""
    options = dict(
        nsa_index_topk=nsa_index_topk, page_size=page_size, max_seqlen_k=max_seqlen_k, validate=validate,
        zero_cu_heads=zero_cu_heads, index_kpool=index_kpool, live_prefix=live_prefix,
    )
    if triton_enabled():
        return _triton_path.fill_decode_metadata(seq_lens, req_pool_indices, req_to_token, buffers, **options)
    _reference_fill(DECODE, (seq_lens, req_pool_indices, req_to_token), buffers, next_n=1, **options)


def fill_target_verify_metadata(
    seq_lens: torch.Tensor,
    req_pool_indices: torch.Tensor,
    req_to_token: torch.Tensor,
    buffers: MetadataBuffers,
    *,
    nsa_index_topk: int,
    page_size: int,
    max_seqlen_k: int | None,
    next_n: int,
    validate: bool | None = None,
    zero_cu_heads: bool = False,
    index_kpool: int = 1,
    live_prefix: bool = True,
) -> None:
    """Fill every target-verify metadata buffer for one step of next_n draft tokens per request,
    buffers.paged_mqa_ctx_lens_2d included where it is given; max_seqlen_k=None (max(seq_lens) +
    next_n on the device), zero_cu_heads, index_kpool, live_prefix and a page_table_1 of None as for
    draft-extend."""
    options = dict(
        nsa_index_topk=nsa_index_topk, page_size=page_size, max_seqlen_k=max_seqlen_k, validate=validate,
        zero_cu_heads=zero_cu_heads, index_kpool=index_kpool, live_prefix=live_prefix,
    )
    if triton_enabled():
        return _triton_path.fill_target_verify_metadata(seq_lens, req_pool_indices, req_to_token, buffers, next_n=next_n, **options)
    _reference_fill(TARGET_VERIFY, (seq_lens, req_pool_indices, req_to_token), buffers, next_n=next_n, **options)


for _fill_of_mode in (fill_draft_extend_metadata, fill_decode_metadata, fill_target_verify_metadata):
    _fill_of_mode.supports_graph_resident = True
    _fill_of_mode.supports_page_table_1_none = True


def expand_seqlens_into(
    extend_seq_lens: torch.Tensor,
    seq_lens: torch.Tensor,
    nsa_index_topk: int,
    out_seqlens_expanded: torch.Tensor,
    out_nsa_cache_seqlens: torch.Tensor,
    *,
    validate: bool | None = None,
    padding_floor: int = eager.DEFAULT_PADDING_FLOOR,
    index_kpool: int = 1,
) -> None:
    """seqlens_expanded and its sparse lengths (clipped to nsa_index_topk, KPool-pooled by
    index_kpool), written in place; no host sync. padding_floor as for fill_draft_extend_metadata."""
    profile_options = {"padding_floor": padding_floor, "index_kpool": index_kpool}
    if triton_enabled():
        return _triton_path.expand_seqlens_into(
            extend_seq_lens, seq_lens, nsa_index_topk, out_seqlens_expanded, out_nsa_cache_seqlens, validate=validate,
            **profile_options,
        )
    shape = check_expand_call(extend_seq_lens, seq_lens, nsa_index_topk, out_seqlens_expanded, out_nsa_cache_seqlens, **profile_options)
    if validation_requested(validate):
        check_values(seq_lens, extend_seq_lens, token_capacity=shape.token_capacity, nsa_index_topk=nsa_index_topk, **profile_options)
    eager.expand_seqlens_into(extend_seq_lens, seq_lens, nsa_index_topk, out_seqlens_expanded, out_nsa_cache_seqlens, **profile_options)


def expand_seqlens(
    extend_seq_lens: torch.Tensor,
    seq_lens: torch.Tensor,
    nsa_index_topk: int,
    *,
    total_tokens: int | None = None,
    validate: bool | None = None,
    padding_floor: int = eager.DEFAULT_PADDING_FLOOR,
    index_kpool: int = 1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(seqlens_expanded, nsa_cache_seqlens), allocated. One sync unless total_tokens is given."""
    profile_options = {"padding_floor": padding_floor, "index_kpool": index_kpool}
    if triton_enabled():
        return _triton_path.expand_seqlens(
            extend_seq_lens, seq_lens, nsa_index_topk, total_tokens=total_tokens, validate=validate, **profile_options
        )
    return eager.expand_seqlens(extend_seq_lens, seq_lens, nsa_index_topk, **profile_options)


__all__ = [
    "MetadataBuffers",
    "TRITON_AVAILABLE",
    "expand_seqlens",
    "expand_seqlens_into",
    "fill_decode_metadata",
    "fill_draft_extend_metadata",
    "fill_target_verify_metadata",
    "triton_enabled",
]
