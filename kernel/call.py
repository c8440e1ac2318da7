"""The call object at the public door, and the three public fills that build it.

Each public fill packs its arguments into one `MetadataCall`, whatever its forward mode's argument
order; past the door, the argument checks (kernel.validation), the launcher (kernel.launch) and the
reference fallback read that one object. `public_fills(fill)` defines the three functions once, over
whatever takes the call: the package's dispatcher (kernel/__init__.py), or the launcher of a
planted-defect kernel (properties.mutants).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import torch

from reference.buffers import MetadataBuffers
from reference.eager import DEFAULT_PADDING_FLOOR
from reference.modes import DECODE, DRAFT_EXTEND, TARGET_VERIFY, ForwardMode


class MetadataCall(NamedTuple):
    """One fill call, its fields in the order the public fills give them. A NamedTuple built from
    positions: one is built on every call, and a frozen dataclass's __init__, or keywords, cost
    about half a microsecond to a microsecond more of host time."""

    forward_mode: ForwardMode
    seq_lens: torch.Tensor
    extend_seq_lens: torch.Tensor | None  # draft-extend's alone
    req_pool_indices: torch.Tensor
    req_to_token: torch.Tensor
    buffers: MetadataBuffers
    nsa_index_topk: int
    page_size: int
    max_seqlen_k: int | None  # None: graph-resident, the longest kv length is taken on the device
    next_n: int  # target-verify's draft tokens per request; 1 for the other modes
    validate: bool | None
    zero_cu_heads: bool
    padding_floor: int | None  # draft-extend's alone: only its padding requests see lengths below 1
    index_kpool: int
    live_prefix: bool
    static_extend_len: bool  # draft-extend's alone: the caller promises every request the same tokens

    @property
    def inputs(self) -> tuple[torch.Tensor, ...]:
        """The mode's input tensors, in its order (ForwardMode.inputs)."""
        return tuple(getattr(self, name) for name in self.forward_mode.inputs)


def public_fills(
    fill: Callable[[MetadataCall], None], module: str
) -> tuple[Callable[..., None], Callable[..., None], Callable[..., None]]:
    """The fills of draft-extend, decode and target-verify, each with its contract's signature (the
    names reference.modes gives them), handing `fill` one MetadataCall. Each is named as an attribute
    of `module`, which must bind it under its own name: pickle then finds it there (a process pool
    sends a fill by name), and a traceback names where it is called from."""

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
        padding_floor: int = DEFAULT_PADDING_FLOOR,
        index_kpool: int = 1,
        live_prefix: bool = True,
        static_extend_len: bool = False,
    ) -> None:
        """Fill every draft-extend metadata buffer for one step (see README.md for the contract): on
        the Triton path one launch, no host sync.

        max_seqlen_k=None is the graph-resident mode: max(seq_lens) is taken on the device, and the
        grid is sized once from the columns the buffers (and req_to_token) hold, so a captured call
        needs nothing from the host at replay. zero_cu_heads=True also stores 0 into element 0 of
        both cu buffers, as SGLang's kernel does (`kernel.sglang`). padding_floor (0 or 1) is the
        engine profile's least causal length of a graph-bucket padding request (0 under sglang-dsa,
        1 under sglang-dsv4 and full-width); index_kpool the KPool size of the sparse lengths;
        buffers.page_table_1 may be None where page_size > 1 (only the real page table is then
        written). live_prefix=True (the sglang-dsa and sglang-dsv4 profiles) lets each page row stop
        at its request's kv length, and the Triton path then leaves the columns past it untouched,
        but for the up to three of page_table_1 that round the row's end up to four columns (never
        past max_seqlen_k), which get their full-width value; False writes every column below
        max_seqlen_k. static_extend_len=True is the caller's promise
        that every request extends the same number of tokens (SGLang's draft-extend of static
        width): the outputs are the same, and the Triton path finds where each request's tokens start
        without summing the earlier extend lengths; validation mode checks the promise.
        """
        fill(MetadataCall(
            DRAFT_EXTEND, seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, nsa_index_topk, page_size,
            max_seqlen_k, 1, validate, zero_cu_heads, padding_floor, index_kpool, live_prefix, static_extend_len,
        ))

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
        """Fill every decode metadata buffer for one step (buffers.nsa_seqlens_expanded may be None:
        a decode token's length is its request's cache_seqlens); max_seqlen_k=None, zero_cu_heads,
        index_kpool, live_prefix and a page_table_1 of None as for draft-extend."""
        fill(MetadataCall(
            DECODE, seq_lens, None, req_pool_indices, req_to_token, buffers, nsa_index_topk, page_size, max_seqlen_k, 1,
            validate, zero_cu_heads, None, index_kpool, live_prefix, False,
        ))

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
        next_n on the device), zero_cu_heads, index_kpool, live_prefix and a page_table_1 of None as
        for draft-extend."""
        fill(MetadataCall(
            TARGET_VERIFY, seq_lens, None, req_pool_indices, req_to_token, buffers, nsa_index_topk, page_size, max_seqlen_k,
            next_n, validate, zero_cu_heads, None, index_kpool, live_prefix, False,
        ))

    fills = (fill_draft_extend_metadata, fill_decode_metadata, fill_target_verify_metadata)
    for public in fills:
        public.__module__, public.__qualname__ = module, public.__name__
        public.supports_graph_resident = True
        public.supports_page_table_1_none = True
    fill_draft_extend_metadata.supports_static_extend_len = True
    return fills
