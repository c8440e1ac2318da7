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

Host time: SGLang calls a drop-in before every replay, with the same buffers step after step. A call
whose arguments were all seen before (each tensor's address, dtype, shape and strides; each host
value with its type) is the very call the first one checked and planned, so it goes straight to the
direct launch the launcher kept for it (kernel.launch), past building the buffers and the call
object: that is most of the host time a drop-in adds to the launch. The kept launches are keyed by
the tensors' addresses and the host values, and each holds a guard on the rest of its tensors'
metadata (kernel._tensor_guard). The switches are still read on
every call: with the Triton path off, validation mode on or a launch hook installed (a profiler),
every call takes the full path.
"""

from __future__ import annotations

from typing import Callable

import torch

from reference.buffers import MetadataBuffers
from reference.engines import SGLANG_DSA
from reference.modes import DECODE, DRAFT_EXTEND, TARGET_VERIFY

from . import _triton_launch, fill_call, triton_enabled
from ._tensor_guard import ABSENT, data_ptr, tensor_guard
from .call import MetadataCall
from .validation import validation_requested

PADDING_FLOOR = SGLANG_DSA.padding_floor

_MAX_LAUNCHES = 1024
# Argument key (the tensors' addresses, ABSENT's for an absent one, and which are absent; the host
# values with their types) -> (the guard on the tensors' other metadata, the kept direct launch).
_LAUNCHES: dict[tuple, tuple[Callable[..., bool], Callable[[], None]]] = {}


def _replay_allowed() -> bool:
    """The switches a kept launch must pass: the Triton path on, validation mode off (it checks
    every call's values) and no launch hook installed (a profiler sees only Triton's own path)."""
    return triton_enabled() and not validation_requested(None) and _triton_launch.direct_launch_usable()


def _replayed(key: tuple | None, tensors: tuple[torch.Tensor, ...]) -> bool:
    """Launch a call whose arguments were seen before from its kept launch; False where the call
    must take the full path (new arguments, a tensor at a kept address with another dtype, shape or
    stride, or a switch that wants the checks or Triton's own launch). `tensors`: the call's
    tensor arguments in order, ABSENT for a None."""
    try:
        kept = None if key is None else _LAUNCHES.get(key)
    except TypeError:  # an unhashable host value: the full path's checks name it
        return False
    if kept is None or not _replay_allowed():
        return False
    holds, launch = kept
    if not holds(*tensors):
        return False
    launch()
    return True


def _keep(key: tuple | None, tensors: tuple[torch.Tensor, ...], launch: Callable[[], None] | None) -> None:
    if key is None or launch is None:
        return
    if len(_LAUNCHES) >= _MAX_LAUNCHES:
        _LAUNCHES.clear()
    _LAUNCHES[key] = (tensor_guard(tensors), launch)


def _page_size(real_page_size: int | None, physical_page_size: int | None) -> int:
    """The page size under either of SGLang's names for it: `real_page_size` (dsa_metadata.py) or
    `physical_page_size` (the dsa_kpool_metadata package)."""
    if real_page_size is None and physical_page_size is None:
        raise TypeError("missing the page size: real_page_size (or physical_page_size)")
    if real_page_size is not None and physical_page_size is not None and real_page_size != physical_page_size:
        raise ValueError(f"real_page_size={real_page_size} and physical_page_size={physical_page_size} disagree")
    return real_page_size if real_page_size is not None else physical_page_size


def _cut(t, bs):
    """`t` cut to its first bs rows, as SGLang's per-bs graph metadata holds it; anything that is
    not such a tensor, or a bs that is not an int, is passed on as given for the checks to name."""
    if isinstance(t, torch.Tensor) and t.dim() and type(bs) is int and t.shape[0] > bs >= 0:
        return t[:bs]
    return t


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
    tensors = (
        seq_lens, req_pool_indices, req_to_token, cache_seqlens, cu_seqlens_k, ABSENT if page_table_1 is None else page_table_1,
        dsa_cache_seqlens, dsa_cu_seqlens_k, real_page_table,
    )
    try:
        key = (
            "decode", *map(data_ptr, tensors), page_table_1 is None, bs, type(bs), max_len, type(max_len),
            dsa_index_topk, type(dsa_index_topk), real_page_size, type(real_page_size), index_kpool, type(index_kpool),
            physical_page_size, type(physical_page_size),
        )
    except (AttributeError, TypeError):
        key = None  # an argument of the wrong kind: the full path's checks name it
    if _replayed(key, tensors):
        return
    page_size = _page_size(real_page_size, physical_page_size)
    seq_lens, req_pool_indices = _cut(seq_lens, bs), _cut(req_pool_indices, bs)
    buffers = _buffers(
        page_table_1, real_page_table, page_size,
        cache_seqlens_int32=cache_seqlens,
        cu_seqlens_k=cu_seqlens_k,
        nsa_seqlens_expanded=None,
        nsa_cache_seqlens_int32=dsa_cache_seqlens,
        nsa_cu_seqlens_k=dsa_cu_seqlens_k,
    )
    _keep(key, tensors, fill_call(MetadataCall(
        DECODE, seq_lens, None, req_pool_indices, req_to_token, buffers, dsa_index_topk, page_size, max_len, 1, None, True, None,
        index_kpool, True, False,
    )))


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
    tensors = (
        seq_lens, req_pool_indices, req_to_token, cache_seqlens, cu_seqlens_k, ABSENT if page_table_1 is None else page_table_1,
        seqlens_expanded, dsa_cache_seqlens, dsa_cu_seqlens_k, real_page_table,
        ABSENT if paged_mqa_ctx_lens_2d is None else paged_mqa_ctx_lens_2d,
    )
    try:
        key = (
            "target-verify", *map(data_ptr, tensors), page_table_1 is None, paged_mqa_ctx_lens_2d is None, bs, type(bs),
            max_seqlen_k, type(max_seqlen_k), dsa_index_topk, type(dsa_index_topk), real_page_size, type(real_page_size), next_n,
            type(next_n), index_kpool, type(index_kpool), physical_page_size, type(physical_page_size),
        )
    except (AttributeError, TypeError):
        key = None  # an argument of the wrong kind: the full path's checks name it
    if _replayed(key, tensors):
        return
    page_size = _page_size(real_page_size, physical_page_size)
    seq_lens, req_pool_indices = _cut(seq_lens, bs), _cut(req_pool_indices, bs)
    buffers = _buffers(
        page_table_1, real_page_table, page_size,
        cache_seqlens_int32=cache_seqlens,
        cu_seqlens_k=cu_seqlens_k,
        nsa_seqlens_expanded=seqlens_expanded,
        nsa_cache_seqlens_int32=dsa_cache_seqlens,
        nsa_cu_seqlens_k=dsa_cu_seqlens_k,
        paged_mqa_ctx_lens_2d=paged_mqa_ctx_lens_2d,
    )
    _keep(key, tensors, fill_call(MetadataCall(
        TARGET_VERIFY, seq_lens, None, req_pool_indices, req_to_token, buffers, dsa_index_topk, page_size, max_seqlen_k, next_n,
        None, True, None, index_kpool, True, False,
    )))


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
    tensors = (
        seq_lens, extend_seq_lens, req_pool_indices, req_to_token, cache_seqlens, cu_seqlens_k,
        ABSENT if page_table_1 is None else page_table_1, seqlens_expanded, dsa_cache_seqlens, dsa_cu_seqlens_k, real_page_table,
    )
    try:
        # total_len, max_extend_len and max_total_len are not read: not part of the call either.
        key = (
            "draft-extend", *map(data_ptr, tensors), page_table_1 is None, bs, type(bs), max_seqlen_k,
            type(max_seqlen_k), dsa_index_topk, type(dsa_index_topk), real_page_size, type(real_page_size), static_extend_len,
            type(static_extend_len), index_kpool, type(index_kpool), physical_page_size, type(physical_page_size),
        )
    except (AttributeError, TypeError):
        key = None  # an argument of the wrong kind: the full path's checks name it
    if _replayed(key, tensors):
        return
    page_size = _page_size(real_page_size, physical_page_size)
    seq_lens, extend_seq_lens, req_pool_indices = _cut(seq_lens, bs), _cut(extend_seq_lens, bs), _cut(req_pool_indices, bs)
    buffers = _buffers(
        page_table_1, real_page_table, page_size,
        cache_seqlens_int32=cache_seqlens,
        cu_seqlens_k=cu_seqlens_k,
        nsa_seqlens_expanded=seqlens_expanded,
        nsa_cache_seqlens_int32=dsa_cache_seqlens,
        nsa_cu_seqlens_k=dsa_cu_seqlens_k,
    )
    _keep(key, tensors, fill_call(MetadataCall(
        DRAFT_EXTEND, seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, dsa_index_topk, page_size,
        max_seqlen_k, 1, None, True, PADDING_FLOOR, index_kpool, True, static_extend_len,
    )))


for _drop_in in (fused_dsa_decode_metadata, fused_dsa_target_verify_metadata, fused_dsa_draft_extend_metadata):
    _drop_in.supports_graph_resident = True
    _drop_in.supports_page_table_1_none = True
