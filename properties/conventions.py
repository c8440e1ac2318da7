"""Calling conventions: how a variant with another kernel's signature is called as the contract.

`contract` is the suite's own signature, per forward mode (reference.eager.FILLS). Every other
convention wraps a callable of an existing kernel's signature into that one, feeding it the host
values the serving engine holds on the host (`properties.host.host_case`: bs, the total, the
longest extension, next_n), never values the harness would read back from the device, so that a
no-sync or capture verdict speaks of the variant alone. What such a kernel leaves to its caller, the
wrapper does the way the caller does, again without a sync. A convention of one kernel implies its
forward mode (IMPLIED_FORWARD_MODES).
"""

from __future__ import annotations

import functools
import inspect
from types import SimpleNamespace
from typing import Callable

import torch

from properties.host import BadVariant, Contract, host_case
from properties.peers import KERNELS
from reference import eager
from reference.buffers import MetadataBuffers
from reference.modes import forward_mode

SGLANG_KEYWORDS = (
    "seq_lens", "extend_seq_lens", "req_pool_indices", "req_to_token", "cache_seqlens", "cu_seqlens_k",
    "page_table_1", "seqlens_expanded", "dsa_cache_seqlens", "dsa_cu_seqlens_k", "real_page_table", "bs",
    "total_len", "max_seqlen_k", "dsa_index_topk", "real_page_size", "max_extend_len", "max_total_len",
    "static_extend_len",
)
# SGLang main's KPool package spells the page size `physical_page_size` and takes `index_kpool` last.
PAGE_SIZE_NAMES = ("real_page_size", "physical_page_size")
KPOOL_KEYWORDS = ("physical_page_size", "index_kpool")


def _host():
    case = host_case()
    if case is None:
        raise RuntimeError("this convention needs the call's host values: call it through properties.harness (run, on_host)")
    return case


def _accepted(fill: Callable, spec: str, offered: tuple[str, ...], required: tuple[str, ...]) -> set[str]:
    """The keywords of `offered` that `fill` takes; BadVariant if it needs one we cannot give or lacks
    one the convention must pass. A page size is required under either of its names (PAGE_SIZE_NAMES),
    and only the one the variant takes is passed."""
    try:
        parameters = inspect.signature(fill).parameters
    except (TypeError, ValueError):
        return set(offered) - set(KPOOL_KEYWORDS)
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        # A variant that takes **kwargs is offered every keyword, as the contract convention offers
        # it every optional one (`index_kpool` among them), the page size once, under its first name.
        return set(offered) - set(PAGE_SIZE_NAMES[1:])
    alias = {name: PAGE_SIZE_NAMES for name in PAGE_SIZE_NAMES}
    missing = [name for name in required if not any(n in parameters for n in alias.get(name, (name,)))]
    unknown = [
        name for name, p in parameters.items()
        if name not in offered and p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if missing or unknown:
        problems = ([f"lacks {', '.join(missing)}"] if missing else []) + ([f"needs {', '.join(unknown)}"] if unknown else [])
        raise BadVariant(f"{spec!r} does not have the convention's signature: it {' and '.join(problems)}")
    return {name for name in offered if name in parameters}


def _takes_none(fill: Callable, name: str) -> bool:
    """Whether `fill` declares that its argument `name` may be None (Optional in its annotation, or a
    default of None), as SGLang main's kernels declare `page_table_1: Optional[torch.Tensor]`."""
    try:
        parameter = inspect.signature(fill).parameters.get(name)
    except (TypeError, ValueError):
        return False
    if parameter is None:
        return False
    annotation = parameter.annotation
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return parameter.default is None or "Optional" in text or "None" in text


def _declare(wrapper: Contract, fill: Callable, accepted: set[str]) -> Contract:
    """What the wrapped kernel declares: graph-resident mode where it says so itself, KPool where it
    takes `index_kpool`, a page_table_1 of None where its signature admits None."""
    wrapper.supports_graph_resident = bool(getattr(fill, "supports_graph_resident", False))
    wrapper.supports_index_kpool = "index_kpool" in accepted
    wrapper.supports_page_table_1_none = bool(getattr(fill, "supports_page_table_1_none", _takes_none(fill, "page_table_1")))
    return wrapper


def _profile_keywords(page_size: int, index_kpool: int) -> dict:
    """The keywords SGLang main added: the page size under the KPool package's name, and the KPool
    size. (A page_table_1 of None where the case gives none is passed as the buffer it is.)"""
    return dict(physical_page_size=page_size, index_kpool=index_kpool)


def sglang_fused_draft_extend(fill: Callable, spec: str) -> Contract:
    """SGLang's `fused_dsa_draft_extend_metadata(...)` keyword form: the buffers one by one, the
    per-request ones cut to bs as SGLang's graph metadata holds them, and host ints for bs, the total,
    the longest extension and the token capacity. Older signatures without max_extend_len or
    static_extend_len are called without them; SGLang main's KPool package takes the page size as
    `physical_page_size` and `index_kpool`. SGLang's draft-extend kernel pads with 0 (the sglang-dsa
    profile's floor) and takes no option for it: the profile's padding_floor is not passed on."""
    accepted = _accepted(fill, spec, SGLANG_KEYWORDS + KPOOL_KEYWORDS, SGLANG_KEYWORDS[:17])

    def fill_draft_extend_metadata(
        seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, *, nsa_index_topk, page_size, max_seqlen_k,
        padding_floor=None, index_kpool=1, live_prefix=True, static_extend_len=False,
    ):
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
            static_extend_len=static_extend_len,
        )
        offered.update(_profile_keywords(page_size, index_kpool))
        fill(**{name: value for name, value in offered.items() if name in accepted})

    fill_draft_extend_metadata.supports_static_extend_len = "static_extend_len" in accepted
    fill_draft_extend_metadata.reads_host_values = True
    return _declare(fill_draft_extend_metadata, fill, accepted)


def _callers_part(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, *, total: int, max_seqlen_k: int):
    """What the draft-extend caller computes around the seed's functions, with the total from the
    host: (cache_seqlens, cumulate_cache_seqlens, page_indices), no sync."""
    cache_seqlens = seq_lens.to(torch.int32)
    cumulate = torch.cumsum(cache_seqlens, dim=0, dtype=torch.int32)
    page_indices = torch.repeat_interleave(
        req_to_token[req_pool_indices, :max_seqlen_k], extend_seq_lens, dim=0, output_size=total
    )
    return cache_seqlens, cumulate, page_indices


def _finish(buffers: MetadataBuffers, page_indices, *, total: int, page_size: int) -> None:
    """The caller's copies after the seed's function: the NSA prefix sum and the real page table."""
    buffers.nsa_cu_seqlens_k[1 : 1 + total].copy_(torch.cumsum(buffers.nsa_cache_seqlens_int32[:total], dim=0, dtype=torch.int32))
    if page_size > 1:
        real = eager.transform_table_1_to_real(page_indices, page_size)
        buffers.real_page_table[: real.shape[0], : real.shape[1]].copy_(real)


def _around_seed(middle: Callable[..., None]) -> Contract:
    """The contract around one of the seed's functions, as the draft-extend caller runs it: its part
    before (`_callers_part`, the total from the host), `middle`, which calls the seed's function and
    stores what it returns, and its copies after (`_finish`)."""

    def fill_draft_extend_metadata(
        seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, *, nsa_index_topk, page_size, max_seqlen_k,
        padding_floor=None, live_prefix=True,
    ):
        # The seed's functions take no padding floor and write full width: theirs are built in, and
        # the profile judges them.
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

    fill_draft_extend_metadata.reads_host_values = True
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


SGLANG_DECODE_KEYWORDS = (
    "seq_lens", "req_pool_indices", "req_to_token", "cache_seqlens", "cu_seqlens_k", "page_table_1",
    "dsa_cache_seqlens", "dsa_cu_seqlens_k", "real_page_table", "bs", "max_len", "dsa_index_topk", "real_page_size",
)


def per_bs_buffers(buffers: MetadataBuffers, bs: int, tokens: int) -> dict:
    """The buffers every mode's kernel takes, by SGLang's names (the expanded lengths aside), cut to
    bs requests and `tokens` tokens as dsa_backend.py's per-bs graph metadata holds them."""
    return dict(
        cache_seqlens=buffers.cache_seqlens_int32[:bs],
        cu_seqlens_k=buffers.cu_seqlens_k[: bs + 1],
        page_table_1=None if buffers.page_table_1 is None else buffers.page_table_1[:tokens],
        dsa_cache_seqlens=buffers.nsa_cache_seqlens_int32[:tokens],
        dsa_cu_seqlens_k=buffers.nsa_cu_seqlens_k[: tokens + 1],
        real_page_table=buffers.real_page_table[:tokens],
    )


def sglang_fused_decode(fill: Callable, spec: str) -> Contract:
    """SGLang's `fused_dsa_decode_metadata(...)` keyword form, as dsa_backend.py's decode replay calls
    it: the buffers one by one, each cut to bs as the per-bs graph metadata holds them, host ints
    for bs, `max_len` (the page table's width there; max_seqlen_k here), the top-k and the page size
    (and SGLang main's KPool keywords, where the kernel takes them)."""
    accepted = _accepted(fill, spec, SGLANG_DECODE_KEYWORDS + KPOOL_KEYWORDS, SGLANG_DECODE_KEYWORDS)

    def fill_decode_metadata(
        seq_lens, req_pool_indices, req_to_token, buffers, *, nsa_index_topk, page_size, max_seqlen_k, index_kpool=1, live_prefix=True
    ):
        bs = seq_lens.shape[0]
        offered = dict(
            **_profile_keywords(page_size, index_kpool),
            seq_lens=seq_lens,
            req_pool_indices=req_pool_indices,
            req_to_token=req_to_token,
            **per_bs_buffers(buffers, bs, tokens=bs),
            bs=bs,
            max_len=max_seqlen_k,
            dsa_index_topk=nsa_index_topk,
            real_page_size=page_size,
        )
        fill(**{name: value for name, value in offered.items() if name in accepted})

    return _declare(fill_decode_metadata, fill, accepted)


SGLANG_TARGET_VERIFY_KEYWORDS = (
    "seq_lens", "req_pool_indices", "req_to_token", "cache_seqlens", "cu_seqlens_k", "page_table_1",
    "seqlens_expanded", "dsa_cache_seqlens", "dsa_cu_seqlens_k", "real_page_table", "bs", "max_seqlen_k",
    "dsa_index_topk", "real_page_size", "next_n", "paged_mqa_ctx_lens_2d",
)


def sglang_fused_target_verify(fill: Callable, spec: str) -> Contract:
    """SGLang's `fused_dsa_target_verify_metadata(...)` keyword form, as dsa_backend.py's
    target-verify replay calls it: the buffers one by one, cut to bs requests and bs * next_n tokens
    as the per-bs graph metadata holds them, host ints for bs, max_seqlen_k, the top-k, the page size
    and next_n, and `paged_mqa_ctx_lens_2d` as a (bs, next_n) view where the case gives one, None
    where it does not (SGLang gives it only on SM100 with next_n >= 2)."""
    accepted = _accepted(fill, spec, SGLANG_TARGET_VERIFY_KEYWORDS + KPOOL_KEYWORDS, SGLANG_TARGET_VERIFY_KEYWORDS[:15])

    def fill_target_verify_metadata(
        seq_lens, req_pool_indices, req_to_token, buffers, *, nsa_index_topk, page_size, max_seqlen_k, next_n, index_kpool=1,
        live_prefix=True,
    ):
        bs = seq_lens.shape[0]
        tokens = bs * next_n
        ctx_lens = buffers.paged_mqa_ctx_lens_2d
        offered = dict(
            **_profile_keywords(page_size, index_kpool),
            seq_lens=seq_lens,
            req_pool_indices=req_pool_indices,
            req_to_token=req_to_token,
            **per_bs_buffers(buffers, bs, tokens),
            seqlens_expanded=buffers.nsa_seqlens_expanded[:tokens],
            bs=bs,
            max_seqlen_k=max_seqlen_k,
            dsa_index_topk=nsa_index_topk,
            real_page_size=page_size,
            next_n=next_n,
            paged_mqa_ctx_lens_2d=None if ctx_lens is None else ctx_lens[:bs, :next_n],
        )
        if ctx_lens is not None and "paged_mqa_ctx_lens_2d" not in accepted:
            raise BadVariant(f"{spec!r} takes no paged_mqa_ctx_lens_2d, and this case gives one to fill")
        fill(**{name: value for name, value in offered.items() if name in accepted})

    return _declare(fill_target_verify_metadata, fill, accepted)


def _contract_signature(mode_name: str) -> str:
    mode = forward_mode(mode_name)
    return f"({', '.join(mode.inputs)}, buffers, *, {', '.join(mode.options)})"


PROFILE_OPTIONS = ("padding_floor", "index_kpool", "live_prefix")
# A caller's promise about the inputs, which a variant may use or ignore: it reaches a variant only
# where it takes it, as the profile's options do.
PROMISES = ("static_extend_len",)
OPTIONAL_KEYWORDS = PROFILE_OPTIONS + PROMISES


def contract(fill: Callable, spec: str, mode_name: str) -> Contract:
    """The suite's own signature for the mode, checked once against a dry bind. The engine profile's
    options (PROFILE_OPTIONS) and the caller's promises (PROMISES) reach the variant only where it
    takes them: one that takes no padding_floor has its floor built in, and is judged by the profile
    as it is; one that takes `index_kpool` declares KPool."""
    mode = forward_mode(mode_name)
    try:
        signature = inspect.signature(fill)
    except (TypeError, ValueError):
        return fill
    try:
        signature.bind(*(None,) * (len(mode.inputs) + 1), **{name: 1 for name in mode.options})
    except TypeError as error:
        raise BadVariant(
            f"{spec!r} does not have the {mode_name} contract's signature {_contract_signature(mode_name)}: {error}"
        ) from error
    parameters = signature.parameters
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        taken = set(OPTIONAL_KEYWORDS)
    else:
        taken = {name for name in OPTIONAL_KEYWORDS if name in parameters}

    @functools.wraps(fill)
    def profiled(*args, **options):
        fill(*args, **{name: value for name, value in options.items() if name in taken or name not in OPTIONAL_KEYWORDS})

    profiled.supports_index_kpool = "index_kpool" in taken
    return profiled


CONVENTIONS: dict[str, Callable[[Callable, str], Contract]] = {
    "contract": contract,
    "sglang-fused-decode": sglang_fused_decode,
    "sglang-fused-target-verify": sglang_fused_target_verify,
    "sglang-fused-draft-extend": sglang_fused_draft_extend,
    "seed-simple": seed_simple,
    "seed-fused": seed_fused,
}
# A convention of one kernel judges it in that kernel's forward mode; `contract` in the one asked for.
IMPLIED_FORWARD_MODES = {
    "sglang-fused-decode": "decode",
    "sglang-fused-target-verify": "target-verify",
    "sglang-fused-draft-extend": "draft-extend",
    "seed-simple": "draft-extend",
    "seed-fused": "draft-extend",
}


def implied_forward_mode(convention: str) -> str | None:
    return IMPLIED_FORWARD_MODES.get(convention)


# A family of conventions, one per forward mode: `sglang` calls each of SGLang's fused kernels
# through the convention of its own mode, so one option serves a module that has all three.
CONVENTION_FAMILIES = {"sglang": "sglang-fused-{mode}"}
# SGLang's entry points by forward mode, plain and KPool, as a module is searched for them: the
# names of a release's kernels (properties.peers.KERNELS).
SGLANG_ENTRY_POINTS = {mode: tuple(KERNELS[kernel_set][mode][1] for kernel_set in ("plain", "kpool")) for mode in KERNELS["plain"]}
CONVENTION_CHOICES = (*CONVENTIONS, *CONVENTION_FAMILIES)


def in_family(convention: str, mode_name: str) -> str:
    """The convention a family (`sglang`) means in `mode_name`; any other convention as it is."""
    return CONVENTION_FAMILIES[convention].format(mode=mode_name) if convention in CONVENTION_FAMILIES else convention


def adapt(fill: Callable, convention: str, spec: str, mode_name: str) -> Contract:
    convention = in_family(convention, mode_name)
    if convention not in CONVENTIONS:
        raise BadVariant(f"unknown convention {convention!r}; known: {', '.join(CONVENTION_CHOICES)}")
    if convention == "contract":
        return contract(fill, spec, mode_name)
    return CONVENTIONS[convention](fill, spec)
