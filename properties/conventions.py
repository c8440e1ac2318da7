"""Calling conventions: how a variant with another kernel's signature is called as the contract.

`contract` is the suite's own signature (reference.fill_draft_extend_metadata). Every other
convention wraps a callable of an existing kernel's signature into that one, feeding it the host
values the serving engine holds on the host (`properties.harness.host_case`: the total, the longest
extension), never values the harness would read back from the device, so that a no-sync or capture
verdict speaks of the variant alone. What such a kernel leaves to its caller, the wrapper does the
way the caller does, again without a sync.
"""

from __future__ import annotations

import inspect
from types import SimpleNamespace
from typing import Callable

import torch

from properties.harness import BadVariant, Contract, host_case
from reference import eager
from reference.buffers import DraftExtendMetadataBuffers

SGLANG_KEYWORDS = (
    "seq_lens", "extend_seq_lens", "req_pool_indices", "req_to_token", "cache_seqlens", "cu_seqlens_k",
    "page_table_1", "seqlens_expanded", "dsa_cache_seqlens", "dsa_cu_seqlens_k", "real_page_table", "bs",
    "total_len", "max_seqlen_k", "dsa_index_topk", "real_page_size", "max_extend_len", "max_total_len",
    "static_extend_len",
)


def _host():
    case = host_case()
    if case is None:
        raise RuntimeError("this convention needs the call's host values: call it through properties.harness (run, on_host)")
    return case


def _accepted(fill: Callable, spec: str, offered: tuple[str, ...], required: tuple[str, ...]) -> set[str]:
    """The keywords of `offered` that `fill` takes; BadVariant if it needs one we cannot give or lacks
    one the convention must pass."""
    try:
        parameters = inspect.signature(fill).parameters
    except (TypeError, ValueError):
        return set(offered)
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return set(offered)
    missing = [name for name in required if name not in parameters]
    unknown = [
        name for name, p in parameters.items()
        if name not in offered and p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if missing or unknown:
        problems = ([f"lacks {', '.join(missing)}"] if missing else []) + ([f"needs {', '.join(unknown)}"] if unknown else [])
        raise BadVariant(f"{spec!r} does not have the convention's signature: it {' and '.join(problems)}")
    return {name for name in offered if name in parameters}


def sglang_fused_draft_extend(fill: Callable, spec: str) -> Contract:
    """SGLang's `fused_dsa_draft_extend_metadata(...)` keyword form: the buffers one by one, the
    per-request ones cut to bs as SGLang's graph metadata holds them, and host ints for bs, the total,
    the longest extension and the token capacity. Older signatures without max_extend_len or
    static_extend_len are called without them."""
    accepted = _accepted(fill, spec, SGLANG_KEYWORDS, SGLANG_KEYWORDS[:17])

    def fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, *, nsa_index_topk, page_size, max_seqlen_k):
        case = _host()
        bs = seq_lens.shape[0]
        offered = dict(
            seq_lens=seq_lens,
            extend_seq_lens=extend_seq_lens,
            req_pool_indices=req_pool_indices,
            req_to_token=req_to_token,
            cache_seqlens=buffers.cache_seqlens_int32[:bs],
            cu_seqlens_k=buffers.cu_seqlens_k[: bs + 1],
            page_table_1=buffers.page_table_1,
            seqlens_expanded=buffers.nsa_seqlens_expanded,
            dsa_cache_seqlens=buffers.nsa_cache_seqlens_int32,
            dsa_cu_seqlens_k=buffers.nsa_cu_seqlens_k,
            real_page_table=buffers.real_page_table,
            bs=bs,
            total_len=case.total_tokens,
            max_seqlen_k=max_seqlen_k,
            dsa_index_topk=nsa_index_topk,
            real_page_size=page_size,
            max_extend_len=max(1, max(case.extend_seq_lens, default=1)),
            max_total_len=buffers.nsa_seqlens_expanded.shape[0],
            static_extend_len=case.static_extend_len,
        )
        fill(**{name: value for name, value in offered.items() if name in accepted})

    fill_draft_extend_metadata.supports_static_extend_len = "static_extend_len" in accepted
    fill_draft_extend_metadata.supports_graph_resident = bool(getattr(fill, "supports_graph_resident", False))
    return fill_draft_extend_metadata


def _callers_part(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, *, total: int, max_seqlen_k: int):
    """What the draft-extend caller computes around the seed's functions, with the total from the
    host: (cache_seqlens, cumulate_cache_seqlens, page_indices), no sync."""
    cache_seqlens = seq_lens.to(torch.int32)
    cumulate = torch.cumsum(cache_seqlens, dim=0, dtype=torch.int32)
    page_indices = torch.repeat_interleave(
        req_to_token[req_pool_indices, :max_seqlen_k], extend_seq_lens, dim=0, output_size=total
    )
    return cache_seqlens, cumulate, page_indices


def _finish(buffers: DraftExtendMetadataBuffers, page_indices, *, total: int, page_size: int) -> None:
    """The caller's copies after the seed's function: the NSA prefix sum and the real page table."""
    buffers.nsa_cu_seqlens_k[1 : 1 + total].copy_(torch.cumsum(buffers.nsa_cache_seqlens_int32[:total], dim=0, dtype=torch.int32))
    if page_size > 1:
        real = eager.transform_table_1_to_real(page_indices, page_size)
        buffers.real_page_table[: real.shape[0], : real.shape[1]].copy_(real)


def _around_seed(middle: Callable[..., None]) -> Contract:
    """The contract around one of the seed's functions, as the draft-extend caller runs it: its part
    before (`_callers_part`, the total from the host), `middle`, which calls the seed's function and
    stores what it returns, and its copies after (`_finish`)."""

    def fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, *, nsa_index_topk, page_size, max_seqlen_k):
        total = _host().total_tokens
        cache, cumulate, page_indices = _callers_part(
            seq_lens, extend_seq_lens, req_pool_indices, req_to_token, total=total, max_seqlen_k=max_seqlen_k
        )
        middle(
            seq_lens=seq_lens, extend_seq_lens=extend_seq_lens, buffers=buffers, nsa_index_topk=nsa_index_topk,
            max_seqlen_k=max_seqlen_k, total=total, bs=seq_lens.shape[0], cache=cache, cumulate=cumulate,
            page_indices=page_indices,
        )
        _finish(buffers, page_indices, total=total, page_size=page_size)

    return fill_draft_extend_metadata


def seed_simple(fill: Callable, spec: str) -> Contract:
    """The seed's option 1, `fill_draft_extend_metadata_fused_simple(extend_seq_lens, seq_lens,
    nsa_index_topk) -> (seqlens_expanded, nsa_cache_seqlens)`: the caller copies those two into the
    buffers and makes every other buffer as the eager code does, with the total from the host."""
    _accepted(fill, spec, ("extend_seq_lens", "seq_lens", "nsa_index_topk"), ("extend_seq_lens", "seq_lens", "nsa_index_topk"))

    def middle(*, seq_lens, extend_seq_lens, buffers, nsa_index_topk, max_seqlen_k, total, bs, cache, cumulate, page_indices):
        expanded, clipped = fill(extend_seq_lens=extend_seq_lens, seq_lens=seq_lens, nsa_index_topk=nsa_index_topk)
        buffers.cache_seqlens_int32[:bs].copy_(cache)
        buffers.cu_seqlens_k[1 : bs + 1].copy_(cumulate)
        buffers.page_table_1[:total, :max_seqlen_k].copy_(page_indices)
        buffers.nsa_seqlens_expanded[:total].copy_(expanded)
        buffers.nsa_cache_seqlens_int32[:total].copy_(clipped)

    return _around_seed(middle)


def seed_fused(fill: Callable, spec: str) -> Contract:
    """The seed's full fusion, `fill_draft_extend_metadata_fused(extend_seq_lens, seq_lens,
    cache_seqlens, cumulate_cache_seqlens, page_indices, nsa_index_topk, metadata)`: the caller makes
    its tensor arguments and, afterwards, the NSA prefix sum and the real page table; `metadata`
    carries SGLang's buffer names, the per-request ones cut to bs."""
    names = ("extend_seq_lens", "seq_lens", "cache_seqlens", "cumulate_cache_seqlens", "page_indices", "nsa_index_topk", "metadata")
    _accepted(fill, spec, names, names)

    def middle(*, seq_lens, extend_seq_lens, buffers, nsa_index_topk, max_seqlen_k, total, bs, cache, cumulate, page_indices):
        metadata = SimpleNamespace(
            cache_seqlens_int32=buffers.cache_seqlens_int32[:bs],
            cu_seqlens_k=buffers.cu_seqlens_k[: bs + 1],
            page_table_1=buffers.page_table_1,
            real_page_table=buffers.real_page_table,
            nsa_seqlens_expanded=buffers.nsa_seqlens_expanded,
            nsa_cache_seqlens_int32=buffers.nsa_cache_seqlens_int32,
            nsa_cu_seqlens_k=buffers.nsa_cu_seqlens_k,
        )
        fill(
            extend_seq_lens=extend_seq_lens, seq_lens=seq_lens, cache_seqlens=cache, cumulate_cache_seqlens=cumulate,
            page_indices=page_indices, nsa_index_topk=nsa_index_topk, metadata=metadata,
        )

    return _around_seed(middle)


def contract(fill: Callable, spec: str) -> Contract:
    """The suite's own signature, checked once against a dry bind."""
    try:
        inspect.signature(fill).bind(*(None,) * 5, nsa_index_topk=1, page_size=1, max_seqlen_k=1)
    except TypeError as error:
        raise BadVariant(
            f"{spec!r} does not have the contract's signature (seq_lens, extend_seq_lens, req_pool_indices, "
            f"req_to_token, buffers, *, nsa_index_topk, page_size, max_seqlen_k): {error}"
        ) from error
    except ValueError:
        pass
    return fill


CONVENTIONS: dict[str, Callable[[Callable, str], Contract]] = {
    "contract": contract,
    "sglang-fused-draft-extend": sglang_fused_draft_extend,
    "seed-simple": seed_simple,
    "seed-fused": seed_fused,
}


def adapt(fill: Callable, convention: str, spec: str) -> Contract:
    if convention not in CONVENTIONS:
        raise BadVariant(f"unknown convention {convention!r}; known: {', '.join(CONVENTIONS)}")
    return CONVENTIONS[convention](fill, spec)
