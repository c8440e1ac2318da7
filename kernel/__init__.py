"""The shipped implementation of the contracts in `reference/`, one function per forward mode.

Each public fill builds one call object (kernel.call) and hands it to one dispatcher, which takes
the Triton launch (kernel.launch) or the reference. SGLANG_DSA_USE_TRITON_METADATA=0 (read at every
call; the seed's SGLANG_NSA_USE_TRITON_METADATA answers while it is unset), or Triton failing to
import, routes these same functions to the reference path, after the same argument checks.

The package's modules import one another relatively, so that a copy of it under another name is
whole: a bisect's baseline (docs/triage.md) relies on it. A mutant's patched files are loaded into
this package instead and import its shipped modules; the mutant's launcher is handed its patched
body and geometry (properties.mutants._kernel_patches.launcher).
"""

from __future__ import annotations

import torch

from reference import eager
from reference.buffers import MetadataBuffers
from reference.modes import TARGET_VERIFY

from ._environ import OFF_VALUES, Switch
from .call import MetadataCall, public_fills
from .validation import check_call, check_call_values, check_expand_call, check_values, validation_requested

try:
    from .launch import LAUNCHER as _launcher
except ImportError:
    _launcher = None

TRITON_AVAILABLE = _launcher is not None


_USE_TRITON = Switch(
    "SGLANG_DSA_USE_TRITON_METADATA", alias="SGLANG_NSA_USE_TRITON_METADATA", default_on=True, off_values=OFF_VALUES
)


def triton_enabled() -> bool:
    """Whether calls take the Triton path now."""
    return TRITON_AVAILABLE and _USE_TRITON.on()


def _longest_kv(call: MetadataCall) -> int:
    """The reference path has no graph-resident form: it reads the longest kv length from the
    device (a sync, as the eager path always makes)."""
    seq_lens = call.seq_lens
    if not seq_lens.numel():
        return 0
    return int(seq_lens.max()) + (call.next_n if call.forward_mode is TARGET_VERIFY else 0)


def _reference_fill(call: MetadataCall) -> None:
    """The reference path of one call, after the Triton path's own checks. It writes every column
    below max_seqlen_k, which a live-prefix profile accepts in each tail cell."""
    shape = check_call(call, _longest_kv)
    if validation_requested(call.validate):
        check_call_values(call, shape)
    mode = call.forward_mode
    options = mode.call_options(nsa_index_topk=call.nsa_index_topk, page_size=call.page_size, max_seqlen_k=shape.max_seqlen_k, next_n=call.next_n)
    profile_options = {"index_kpool": call.index_kpool, **({"padding_floor": call.padding_floor} if mode.pads_below_one else {})}
    eager.FILLS[mode.name](*call.inputs, call.buffers, **options, **profile_options)
    if call.zero_cu_heads:
        call.buffers.cu_seqlens_k[:1].zero_()
        call.buffers.nsa_cu_seqlens_k[:1].zero_()


def fill_call(call: MetadataCall):
    """One call object's fill, on the Triton path or the reference's. Returns the direct launch
    that repeats this very call where the launcher kept one, else None (the public fills drop it;
    the SGLang drop-ins keep it, kernel.sglang)."""
    if triton_enabled():
        return _launcher.fill(call)
    _reference_fill(call)
    return None


fill_draft_extend_metadata, fill_decode_metadata, fill_target_verify_metadata = public_fills(fill_call, __name__)


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
    _expand_into(extend_seq_lens, seq_lens, nsa_index_topk, out_seqlens_expanded, out_nsa_cache_seqlens, validate, padding_floor, index_kpool, None)


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
    """(seqlens_expanded, nsa_cache_seqlens), allocated. Without `total_tokens` the output size is
    read from the device: that is this API's one sync. Validation mode checks that a given
    `total_tokens` equals sum(extend_seq_lens)."""
    if not isinstance(extend_seq_lens, torch.Tensor):
        raise TypeError(f"extend_seq_lens must be a torch.Tensor, got {type(extend_seq_lens).__name__}")
    if total_tokens is None:
        total_tokens = int(extend_seq_lens.sum())
        if total_tokens < 0:
            raise ValueError(f"extend_seq_lens sums to {total_tokens}: an extend length is negative")
    elif isinstance(total_tokens, bool) or not isinstance(total_tokens, int) or total_tokens < 0:
        raise ValueError(f"total_tokens must be a non-negative int, got {total_tokens!r}")
    seqlens_expanded = torch.empty(total_tokens, dtype=torch.int32, device=extend_seq_lens.device)
    nsa_cache_seqlens = torch.empty(total_tokens, dtype=torch.int32, device=extend_seq_lens.device)
    _expand_into(extend_seq_lens, seq_lens, nsa_index_topk, seqlens_expanded, nsa_cache_seqlens, validate, padding_floor, index_kpool, total_tokens)
    return seqlens_expanded, nsa_cache_seqlens


def _expand_into(
    extend_seq_lens, seq_lens, nsa_index_topk, out_seqlens_expanded, out_nsa_cache_seqlens, validate, padding_floor, index_kpool, total_tokens
) -> None:
    """Both expand APIs' one dispatch: the Triton launch, or the reference after the same checks."""
    profile_options = {"padding_floor": padding_floor, "index_kpool": index_kpool}
    if triton_enabled():
        _launcher.expand_into(
            extend_seq_lens, seq_lens, nsa_index_topk, out_seqlens_expanded, out_nsa_cache_seqlens, validate=validate,
            total_tokens=total_tokens, **profile_options,
        )
        return
    shape = check_expand_call(extend_seq_lens, seq_lens, nsa_index_topk, out_seqlens_expanded, out_nsa_cache_seqlens, **profile_options)
    if validation_requested(validate):
        check_values(
            seq_lens, extend_seq_lens, token_capacity=shape.token_capacity, nsa_index_topk=nsa_index_topk, total_tokens=total_tokens,
            **profile_options,
        )
    eager.expand_seqlens_into(extend_seq_lens, seq_lens, nsa_index_topk, out_seqlens_expanded, out_nsa_cache_seqlens, **profile_options)


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
