"""Argument checks for the launcher.

`check_call` reads only what the host already knows (dtypes, devices, shapes, strides, host ints)
and runs before a call's first launch: a repeated call of the same signature (the same tensors,
shapes, strides and host ints) finds its launch plan cached and skips it, since nothing it checks
can have changed. `check_values` reads the device data, which costs a host sync, so it
runs only in validation mode (`validate=True` or SGLANG_DSA_METADATA_VALIDATE=1, the seed's
SGLANG_NSA_METADATA_VALIDATE answering while it is unset). Both raise before
anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from reference.buffers import MetadataBuffers
from reference.engines import KPOOL_PAGE_SIZE, KPOOL_SIZES, kpool_supported, sparse_length
from reference.modes import DRAFT_EXTEND, TARGET_VERIFY, ForwardMode

from ._environ import OFF_VALUES, Switch
from .call import MetadataCall

INT32_MAX = 2**31 - 1
INDEX_DTYPES = (torch.int32, torch.int64)


_VALIDATE = Switch("SGLANG_DSA_METADATA_VALIDATE", alias="SGLANG_NSA_METADATA_VALIDATE", default_on=False, off_values=("", *OFF_VALUES))


def validation_requested(validate: bool | None) -> bool:
    if validate is not None:
        return validate
    return _VALIDATE.on()


@dataclass(frozen=True)
class CallShape:
    """What the launcher needs to know about a call, all of it known on the host."""

    bs: int
    token_capacity: int
    max_seqlen_k: int  # the columns the checks allowed: the call's, or a graph-resident call's bound


def _index_vector(name: str, t, device: torch.device | None) -> None:
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if t.dtype not in INDEX_DTYPES:
        raise TypeError(f"{name} must be int32 or int64, got {t.dtype}")
    if t.dim() != 1:
        raise ValueError(f"{name} must be 1-D, got shape {tuple(t.shape)}")
    if t.shape[0] > 1 and t.stride(0) != 1:
        raise ValueError(f"{name} must be contiguous, got stride {t.stride()}")
    if device is not None and t.device != device:
        raise ValueError(f"{name} is on {t.device}, expected {device}")


def _int32_buffer(name: str, t, rank: int, device: torch.device) -> None:
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if t.dtype != torch.int32:
        raise TypeError(f"{name} must be int32, got {t.dtype}")
    if t.dim() != rank:
        raise ValueError(f"{name} must be {rank}-D, got shape {tuple(t.shape)}")
    if t.device != device:
        raise ValueError(f"{name} is on {t.device}, expected {device}")
    if rank == 2 and t.shape[0] > 1 and t.shape[1] > 1 and t.stride(1) != 1:
        raise ValueError(f"{name} rows must be contiguous (column stride 1), got strides {t.stride()}")
    if rank == 1 and t.shape[0] > 1 and t.stride(0) != 1:
        raise ValueError(f"{name} must be contiguous, got stride {t.stride()}")


def _host_int(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a Python int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def _byte_span(t: torch.Tensor) -> tuple[int, int]:
    if t.numel() == 0:
        return (t.data_ptr(), t.data_ptr())
    last = sum((size - 1) * stride for size, stride in zip(t.shape, t.stride()))
    return (t.data_ptr(), t.data_ptr() + (last + 1) * t.element_size())


def _disjoint(named: dict[str, torch.Tensor]) -> None:
    spans = sorted((_byte_span(t), name) for name, t in named.items())
    for ((_, end), name), ((start, _), other) in zip(spans, spans[1:]):
        if start < end:
            raise ValueError(f"{other} overlaps {name} in memory; every buffer needs its own storage")


def column_capacity(buffers: MetadataBuffers, page_size: int) -> int:
    """The most columns the page tables hold: page_table_1's width, or where the caller gives none,
    the real table's pages times the page size."""
    if buffers.page_table_1 is not None:
        return buffers.page_table_1.shape[1]
    return buffers.real_page_table.shape[1] * page_size


def _check_profile_options(padding_floor, index_kpool, page_size: int | None, nsa_index_topk: int) -> None:
    """The options an engine profile sets (reference.engines): the padding floor, 0 or 1; the KPool
    size, one of KPOOL_SIZES, above 1 only at page size 64 and dividing both 64 and the top-k (the
    expand-only API, which has no page size, checks the top-k alone)."""
    if padding_floor is not None:
        _host_int("padding_floor", padding_floor, 0)
        if padding_floor > 1:
            raise ValueError(f"padding_floor must be 0 or 1, got {padding_floor}")
    _host_int("index_kpool", index_kpool, 1)
    if index_kpool not in KPOOL_SIZES:
        raise ValueError(f"index_kpool must be one of {', '.join(map(str, KPOOL_SIZES))}, got {index_kpool}")
    if not kpool_supported(index_kpool, KPOOL_PAGE_SIZE if page_size is None else page_size, nsa_index_topk):
        raise ValueError(
            f"index_kpool={index_kpool} needs page_size={KPOOL_PAGE_SIZE} and a top-k it divides "
            f"(got page_size={page_size}, nsa_index_topk={nsa_index_topk})"
        )


def check_expand_call(
    extend_seq_lens, seq_lens, nsa_index_topk, out_seqlens_expanded, out_nsa_cache_seqlens, *, padding_floor=0, index_kpool=1
) -> CallShape:
    _index_vector("seq_lens", seq_lens, None)
    device = seq_lens.device
    _index_vector("extend_seq_lens", extend_seq_lens, device)
    bs = seq_lens.shape[0]
    if extend_seq_lens.shape[0] != bs:
        raise ValueError(
            f"extend_seq_lens has {extend_seq_lens.shape[0]} entries, seq_lens has {bs} (batch size mismatch)"
        )
    _host_int("nsa_index_topk", nsa_index_topk, 1)
    _check_profile_options(padding_floor, index_kpool, None, nsa_index_topk)
    _int32_buffer("out_seqlens_expanded", out_seqlens_expanded, 1, device)
    _int32_buffer("out_nsa_cache_seqlens", out_nsa_cache_seqlens, 1, device)
    _disjoint({"out_seqlens_expanded": out_seqlens_expanded, "out_nsa_cache_seqlens": out_nsa_cache_seqlens})
    capacity = min(out_seqlens_expanded.shape[0], out_nsa_cache_seqlens.shape[0])
    return CallShape(bs=bs, token_capacity=capacity, max_seqlen_k=0)  # expand writes no page-table column


def check_call(call: MetadataCall, graph_columns: Callable[[MetadataCall], int]) -> CallShape:
    """The host checks of one fill call. A graph-resident call (max_seqlen_k None) is checked once
    with no columns, so that `graph_columns` reads only arguments that are what they claim, then for
    every column it says the call may fill: the launcher's capacity, or the reference's longest kv
    length."""
    if call.max_seqlen_k is not None:
        return _check_host(call, call.max_seqlen_k)
    _check_host(call, 0)
    return _check_host(call, graph_columns(call))


def _check_host(call: MetadataCall, max_seqlen_k: int) -> CallShape:
    forward_mode, buffers, page_size, next_n = call.forward_mode, call.buffers, call.page_size, call.next_n
    seq_lens, extend_seq_lens, req_pool_indices, req_to_token = call.seq_lens, call.extend_seq_lens, call.req_pool_indices, call.req_to_token
    if not isinstance(buffers, MetadataBuffers):
        raise TypeError(f"buffers must be a MetadataBuffers, got {type(buffers).__name__}")
    _index_vector("seq_lens", seq_lens, None)
    bs, device = seq_lens.shape[0], seq_lens.device
    if forward_mode is DRAFT_EXTEND:
        _index_vector("extend_seq_lens", extend_seq_lens, device)
        if extend_seq_lens.shape[0] != bs:
            raise ValueError(
                f"extend_seq_lens has {extend_seq_lens.shape[0]} entries, seq_lens has {bs} (batch size mismatch)"
            )
    _host_int("nsa_index_topk", call.nsa_index_topk, 1)
    if forward_mode is TARGET_VERIFY:
        _host_int("next_n", next_n, 1)
    _index_vector("req_pool_indices", req_pool_indices, device)
    if req_pool_indices.shape[0] != bs:
        raise ValueError(
            f"req_pool_indices has {req_pool_indices.shape[0]} entries, seq_lens has {bs} (batch size mismatch)"
        )
    if not isinstance(req_to_token, torch.Tensor):
        raise TypeError(f"req_to_token must be a torch.Tensor, got {type(req_to_token).__name__}")
    if req_to_token.dtype != torch.int32:
        raise TypeError(f"req_to_token must be int32, got {req_to_token.dtype}")
    if req_to_token.dim() != 2:
        raise ValueError(f"req_to_token must be 2-D, got shape {tuple(req_to_token.shape)}")
    if req_to_token.device != device:
        raise ValueError(f"req_to_token is on {req_to_token.device}, expected {device}")
    if req_to_token.shape[1] > 1 and req_to_token.stride(1) != 1:
        raise ValueError(f"req_to_token rows must be contiguous, got strides {req_to_token.stride()}")

    _host_int("page_size", page_size, 1)
    if page_size & (page_size - 1):
        raise ValueError(f"page_size must be a power of two, got {page_size}")
    if forward_mode.pads_below_one:
        # Only this mode's padding requests take a floor, and None is none of its values.
        _host_int("padding_floor", call.padding_floor, 0)
    _check_profile_options(call.padding_floor if forward_mode.pads_below_one else None, call.index_kpool, page_size, call.nsa_index_topk)
    for name in ("live_prefix", "static_extend_len"):
        if not isinstance(getattr(call, name), bool):
            raise TypeError(f"{name} must be a bool, got {type(getattr(call, name)).__name__}")
    _host_int("max_seqlen_k", max_seqlen_k, 0)
    if max_seqlen_k > req_to_token.shape[1]:
        raise ValueError(
            f"max_seqlen_k={max_seqlen_k} exceeds the width of req_to_token ({req_to_token.shape[1]})"
        )
    real_cols = -(-max_seqlen_k // page_size)

    token_buffers = ["nsa_cache_seqlens_int32"]
    if "nsa_seqlens_expanded" in forward_mode.writes:
        token_buffers.insert(0, "nsa_seqlens_expanded")
    for name in ("cache_seqlens_int32", "cu_seqlens_k", *token_buffers, "nsa_cu_seqlens_k"):
        _int32_buffer(name, getattr(buffers, name), 1, device)
    has_page_table_1 = buffers.page_table_1 is not None
    if has_page_table_1:
        _int32_buffer("page_table_1", buffers.page_table_1, 2, device)
    elif page_size == 1:
        raise ValueError("page_table_1 is None, but with page_size 1 it is the real page table: only page_size > 1 may omit it")
    if buffers.cache_seqlens_int32.shape[0] < bs:
        raise ValueError(f"cache_seqlens_int32 holds {buffers.cache_seqlens_int32.shape[0]} entries, needs bs={bs}")
    if buffers.cu_seqlens_k.shape[0] < bs + 1:
        raise ValueError(f"cu_seqlens_k holds {buffers.cu_seqlens_k.shape[0]} entries, needs bs+1={bs + 1}")
    if has_page_table_1 and buffers.page_table_1.shape[1] < max_seqlen_k:
        raise ValueError(
            f"page_table_1 is {buffers.page_table_1.shape[1]} columns wide, needs max_seqlen_k={max_seqlen_k}"
        )
    if buffers.nsa_cu_seqlens_k.shape[0] < 1:
        raise ValueError("nsa_cu_seqlens_k must hold at least one entry")
    capacities = {name: getattr(buffers, name).shape[0] for name in token_buffers}
    capacities["nsa_cu_seqlens_k"] = buffers.nsa_cu_seqlens_k.shape[0] - 1
    written = ("cache_seqlens_int32", "cu_seqlens_k", *token_buffers, "nsa_cu_seqlens_k")
    outputs = {name: getattr(buffers, name) for name in written}
    if has_page_table_1:
        capacities["page_table_1"] = buffers.page_table_1.shape[0]
        outputs["page_table_1"] = buffers.page_table_1
    if page_size == 1:
        if buffers.real_page_table is not buffers.page_table_1:
            raise ValueError("real_page_table must be page_table_1 itself when page_size == 1")
        real_cols = 0
    else:
        _int32_buffer("real_page_table", buffers.real_page_table, 2, device)
        if buffers.real_page_table.shape[1] < real_cols:
            raise ValueError(
                f"real_page_table is {buffers.real_page_table.shape[1]} columns wide, "
                f"needs ceil(max_seqlen_k / page_size)={real_cols}"
            )
        capacities["real_page_table"] = buffers.real_page_table.shape[0]
        outputs["real_page_table"] = buffers.real_page_table
    ctx_lens = buffers.paged_mqa_ctx_lens_2d if "paged_mqa_ctx_lens_2d" in forward_mode.writes else None
    if ctx_lens is not None:
        _int32_buffer("paged_mqa_ctx_lens_2d", ctx_lens, 2, device)
        if ctx_lens.shape[0] < bs or ctx_lens.shape[1] < next_n:
            raise ValueError(f"paged_mqa_ctx_lens_2d is {tuple(ctx_lens.shape)}, needs at least (bs, next_n)=({bs}, {next_n})")
        outputs["paged_mqa_ctx_lens_2d"] = ctx_lens
    _disjoint(outputs)
    token_capacity = min(capacities.values())
    if forward_mode is not DRAFT_EXTEND:
        # Every request's number of tokens is known on the host here, so the capacity check is free.
        tokens = bs * (next_n if forward_mode is TARGET_VERIFY else 1)
        if tokens > token_capacity:
            short = min(capacities, key=capacities.get)
            raise ValueError(f"{short} holds {capacities[short]} token rows, needs {tokens} ({forward_mode.name}, bs={bs})")
    return CallShape(bs=bs, token_capacity=token_capacity, max_seqlen_k=max_seqlen_k)


def check_values(
    seq_lens: torch.Tensor,
    extend_seq_lens: torch.Tensor | None,
    *,
    token_capacity: int,
    max_seqlen_k: int | None = None,
    req_pool_indices: torch.Tensor | None = None,
    pool_size: int = 0,
    nsa_index_topk: int = 1,
    total_tokens: int | None = None,
    forward_mode: ForwardMode = DRAFT_EXTEND,
    next_n: int = 1,
    padding_floor: int | None = None,
    index_kpool: int = 1,
    static_extend_len: bool = False,
) -> None:
    """Checks that need the device data (one host sync); raises before anything is written."""
    seq = seq_lens.to(torch.int64).cpu()
    if bool((seq < 0).any()):
        b = int(torch.nonzero(seq < 0)[0])
        raise ValueError(f"seq_lens[{b}]={int(seq[b])} is negative")
    extend = None if extend_seq_lens is None else extend_seq_lens.to(torch.int64).cpu().tolist()
    lengths = forward_mode.request_lengths(seq.tolist(), extend, next_n)
    kv = torch.tensor([k for k, _ in lengths], dtype=torch.int64)
    qo = torch.tensor([q for _, q in lengths], dtype=torch.int64)
    if bool((qo < 0).any()):
        b = int(torch.nonzero(qo < 0)[0])
        raise ValueError(f"extend_seq_lens[{b}]={int(qo[b])} is negative")
    if static_extend_len and extend and any(q != extend[0] for q in extend):
        b = next(b for b, q in enumerate(extend) if q != extend[0])
        raise ValueError(
            f"static_extend_len=True promises equal extend lengths, but extend_seq_lens[{b}]={extend[b]} "
            f"and extend_seq_lens[0]={extend[0]}"
        )
    # extend_seq_lens > seq_lens is a graph-bucket padding request, which the contract admits.
    kv_name = "seq_lens[{b}] + next_n" if forward_mode is TARGET_VERIFY else "seq_lens[{b}]"
    if bool((kv > INT32_MAX).any()):
        b = int(torch.nonzero(kv > INT32_MAX)[0])
        raise ValueError(f"{kv_name.format(b=b)}={int(kv[b])} does not fit in int32")
    if max_seqlen_k is not None and bool((kv > max_seqlen_k).any()):
        b = int(torch.nonzero(kv > max_seqlen_k)[0])
        raise ValueError(f"{kv_name.format(b=b)}={int(kv[b])} exceeds max_seqlen_k={max_seqlen_k}")
    if int(kv.sum()) > INT32_MAX:
        raise ValueError(f"the kv lengths sum to {int(kv.sum())}, which overflows the int32 cu_seqlens_k")
    total = int(qo.sum())
    if total_tokens is not None and total != total_tokens:
        raise ValueError(f"total_tokens={total_tokens} but sum(extend_seq_lens)={total}")
    if total > token_capacity:
        raise ValueError(f"{total} tokens (sum(extend_seq_lens)) exceed the token buffers' capacity ({token_capacity})")
    floor = padding_floor if forward_mode.pads_below_one and padding_floor is not None else 0
    clipped_total = sum(
        sparse_length(v, nsa_index_topk, index_kpool) for k, q in lengths for v in forward_mode.expanded_lengths(k, q, floor)
    )
    if clipped_total > INT32_MAX:
        raise ValueError(f"sum of clipped lengths {clipped_total} overflows the int32 nsa_cu_seqlens_k")
    if req_pool_indices is not None:
        pool = req_pool_indices.to(torch.int64).cpu()
        bad = (pool < 0) | (pool >= pool_size)
        if bool(bad.any()):
            b = int(torch.nonzero(bad)[0])
            raise ValueError(f"req_pool_indices[{b}]={int(pool[b])} is outside req_to_token's {pool_size} rows")


def check_call_values(call: MetadataCall, shape: CallShape) -> None:
    """`check_values` (validation mode: one host sync) of a fill call whose host checks gave `shape`."""
    check_values(
        call.seq_lens,
        call.extend_seq_lens,
        token_capacity=shape.token_capacity,
        max_seqlen_k=shape.max_seqlen_k,
        req_pool_indices=call.req_pool_indices,
        pool_size=call.req_to_token.shape[0],
        nsa_index_topk=call.nsa_index_topk,
        forward_mode=call.forward_mode,
        next_n=call.next_n,
        padding_floor=call.padding_floor,
        index_kpool=call.index_kpool,
        static_extend_len=call.static_extend_len,
    )
