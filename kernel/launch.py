"""The launcher of the metadata kernel (kernel.dsa_metadata): a call's launch plan, kept per call
signature, and its launch.

Host checks depend only on what a call's signature holds (each tensor's address, dtype, shape,
strides and device; the host ints), and so do the kernel's arguments. So on a GPU, a call whose
signature was seen before skips both and goes straight to the compiled kernel: the hot path costs a
signature and a launch. The cache is keyed by the tensors' addresses and the host values; each plan
holds a guard on the rest (kernel._tensor_guard), one C++ call where Python would read four
attributes a tensor. A plan's first launch compiles or finds the kernel; the plan then keeps a
direct launch of it (kernel._triton_launch) and drops its arguments, so that a cached plan keeps no
tensor alive. The argument checks run before a signature's first launch (kernel.validation), and
the value checks of validation mode before every launch.

A `Launcher` is one kernel body under one launch geometry (kernel.geometry), with a plan cache of its
own: `LAUNCHER` is the shipped kernel's, and each planted-defect kernel of the mutation self-test
(properties.mutants) has its own, so that no plan is shared between two bodies.
"""

from __future__ import annotations

from typing import Callable

import torch

from reference.buffers import MetadataBuffers
from reference.modes import DECODE, DRAFT_EXTEND, TARGET_VERIFY

from . import _triton_launch
from ._tensor_guard import data_ptr, tensor_guard
from .call import MetadataCall
from .dsa_metadata import dsa_metadata_kernel, kernel_id
from .geometry import LaunchGeometry, launch_geometry
from .validation import (
    CallShape,
    check_call,
    check_call_values,
    check_expand_call,
    check_values,
    column_capacity,
    validation_requested,
)

_MAX_PLANS = 1024


class LaunchPlan:
    """Everything one launch needs, computed once per call signature: the grid, the warps, the
    kernel's arguments, and the shape the host checks gave (validation mode reads its capacities).
    A cached plan also holds `holds`, the guard on its tensors' metadata (kernel._tensor_guard)."""

    def __init__(self, grid: tuple[int], num_warps: int, args: tuple, shape: CallShape):
        self.grid = grid
        self.num_warps = num_warps
        self.args = args
        self.shape = shape
        self.direct = None
        self.holds = None


def _signature(tensors: list[torch.Tensor], host: tuple) -> tuple | None:
    """The call's plan-cache key: its tensors' addresses (the absent ones left out: which are absent
    the host values tell) and its host values with their types; the plan's guard checks the rest.
    None where the plan cache must not be used (CPU tensors, which only the interpreter runs; a
    Triton whose private launch API is missing or changed, or a launch hook that wants Triton's own
    path; arguments that are not tensors and must reach the checks)."""
    try:
        if not tensors[0].is_cuda or not _triton_launch.direct_launch_usable():
            return None
        return (*map(data_ptr, tensors), *map(type, host), *host)
    except (AttributeError, TypeError):
        return None


def _outputs(call: MetadataCall) -> tuple[torch.Tensor | None, ...]:
    """The output buffers in the kernel's order, None where the mode or the caller has none: decode
    has no expanded lengths, and only target-verify has 2-D schedule lengths (where given)."""
    buffers = call.buffers
    return (
        buffers.cache_seqlens_int32,
        buffers.cu_seqlens_k,
        buffers.page_table_1,
        buffers.real_page_table,
        None if call.forward_mode is DECODE else buffers.nsa_seqlens_expanded,
        buffers.nsa_cache_seqlens_int32,
        buffers.nsa_cu_seqlens_k,
        buffers.paged_mqa_ctx_lens_2d if call.forward_mode is TARGET_VERIFY else None,
    )


def fill_signature(call: MetadataCall) -> tuple[tuple | None, list[torch.Tensor]]:
    """The call's plan-cache key (None where no plan may be cached) and the tensors its plan's guard
    checks. A function of its own so that benchmarks.host_breakdown times this very key."""
    buffers = call.buffers
    if not isinstance(buffers, MetadataBuffers):
        raise TypeError(f"buffers must be a MetadataBuffers, got {type(buffers).__name__}")
    tensors = [
        t for t in (call.seq_lens, call.extend_seq_lens, call.req_pool_indices, call.req_to_token, *_outputs(call)) if t is not None
    ]
    return _signature(
        tensors,
        (
            call.forward_mode.name, call.nsa_index_topk, call.page_size, call.max_seqlen_k, call.next_n,
            buffers.real_page_table is buffers.page_table_1, buffers.page_table_1 is None, call.zero_cu_heads,
            call.padding_floor, call.index_kpool, call.live_prefix, call.static_extend_len,
        ),
    ), tensors


def _graph_columns(call: MetadataCall) -> int:
    """A graph-resident call's columns: every one the buffers and req_to_token hold, since the
    kernel bounds them by max(seq_lens) itself."""
    return min(call.req_to_token.shape[1], column_capacity(call.buffers, call.page_size))


class Launcher:
    """The launch path of one kernel body under one launch geometry, with its own plan cache."""

    def __init__(self, kernel, geometry: Callable[..., LaunchGeometry]):
        self.kernel = kernel
        self.geometry = geometry
        self.plans: dict[tuple, LaunchPlan] = {}

    def _cached(self, signature: tuple | None, tensors: list[torch.Tensor]) -> tuple[tuple | None, LaunchPlan | None]:
        """(signature, its cached plan), both None where the call must reach the checks: an
        unhashable host argument (a list for an int) is one, and the checks name it. A plan whose
        guard does not hold (the same addresses, another dtype, shape or stride) is none: the call
        is checked and planned anew, and its plan takes the key."""
        if signature is None:
            return None, None
        try:
            plan = self.plans.get(signature)
        except TypeError:
            return None, None
        if plan is not None and not plan.holds(*tensors):
            return signature, None
        return signature, plan

    def fill(self, call: MetadataCall) -> Callable[[], None] | None:
        """One fill call: one launch, no host sync (validation mode's value checks aside). Returns
        the plan's direct launch, which repeats this very call, where the plan keeps one (None on
        the public path): the SGLang drop-ins key it by their own arguments (kernel.sglang)."""
        signature, tensors = fill_signature(call)
        signature, plan = self._cached(signature, tensors)
        if plan is None:
            plan = self._build_plan(call, check_call(call, _graph_columns), full_metadata=True)
        if validation_requested(call.validate):
            check_call_values(call, plan.shape)
        self._launch(plan, signature, tensors)
        return plan.direct

    def expand_into(
        self, extend_seq_lens, seq_lens, nsa_index_topk, out_seqlens_expanded, out_nsa_cache_seqlens, *, validate,
        padding_floor, index_kpool, total_tokens=None,
    ) -> None:
        """The expanded and the clipped lengths of a draft-extend call, written into preallocated
        int32 vectors: the kernel's token pass alone, its page-table and per-request outputs compiled
        out. No host sync."""
        tensors = [extend_seq_lens, seq_lens, out_seqlens_expanded, out_nsa_cache_seqlens]
        signature, plan = self._cached(_signature(tensors, (nsa_index_topk, padding_floor, index_kpool)), tensors)
        if plan is None:
            shape = check_expand_call(
                extend_seq_lens, seq_lens, nsa_index_topk, out_seqlens_expanded, out_nsa_cache_seqlens,
                padding_floor=padding_floor, index_kpool=index_kpool,
            )
            # Any int32 tensor stands in for the outputs that are compiled out.
            unused, table = out_seqlens_expanded, out_seqlens_expanded[None, :]
            stand_ins = MetadataBuffers(unused, unused, table, table, out_seqlens_expanded, out_nsa_cache_seqlens, unused)
            call = MetadataCall(
                forward_mode=DRAFT_EXTEND, seq_lens=seq_lens, extend_seq_lens=extend_seq_lens, req_pool_indices=seq_lens,
                req_to_token=table, buffers=stand_ins, nsa_index_topk=nsa_index_topk, page_size=1, max_seqlen_k=0, next_n=1,
                validate=validate, zero_cu_heads=False, padding_floor=padding_floor, index_kpool=index_kpool, live_prefix=True,
                static_extend_len=False,
            )
            plan = self._build_plan(call, shape, full_metadata=False)
        if validation_requested(validate):
            check_values(
                seq_lens, extend_seq_lens, token_capacity=plan.shape.token_capacity, nsa_index_topk=nsa_index_topk,
                total_tokens=total_tokens, padding_floor=padding_floor, index_kpool=index_kpool,
            )
        self._launch(plan, signature, tensors)

    def _build_plan(self, call: MetadataCall, shape: CallShape, *, full_metadata: bool) -> LaunchPlan:
        mode, max_seqlen_k, seq_lens, req_to_token = call.forward_mode, shape.max_seqlen_k, call.seq_lens, call.req_to_token
        # The token rows the call may write: target-verify's are known to the host, draft-extend's
        # only bounded by its buffers.
        tokens = shape.token_capacity if mode is DRAFT_EXTEND else shape.bs * call.next_n
        geometry = self.geometry(shape.bs, max_seqlen_k, seq_lens.device, mode.name, tokens)
        tiles = geometry.tiles
        # The page size is a compile-time constant, as it is for one deployment: the real page table
        # is then one lane per page, not a masked lane per column.
        page_shift = call.page_size.bit_length() - 1
        cache_seqlens, cu_seqlens_k, page_table_1, real_page_table, expanded, clipped, nsa_cu_seqlens_k, ctx_lens = _outputs(call)
        # A buffer the mode (or the caller) does not have is compiled out; any int32 tensor stands in
        # for its pointer.
        has_page_table_1 = page_table_1 is not None
        args = (
            seq_lens,
            seq_lens if call.extend_seq_lens is None else call.extend_seq_lens,
            call.req_pool_indices,
            req_to_token,
            req_to_token.stride(0),
            cache_seqlens,
            cu_seqlens_k,
            page_table_1 if has_page_table_1 else real_page_table,
            page_table_1.stride(0) if has_page_table_1 else 0,
            real_page_table,
            real_page_table.stride(0),
            clipped if expanded is None else expanded,
            clipped,
            nsa_cu_seqlens_k,
            clipped if ctx_lens is None else ctx_lens,
            0 if ctx_lens is None else ctx_lens.stride(0),
            shape.bs,
            max_seqlen_k,
            call.nsa_index_topk,
            0 if call.max_seqlen_k is None else max_seqlen_k,
            shape.token_capacity,
            call.next_n,
            geometry.col_programs,
            tiles.reqs,
            tiles.scan_block,
            tiles.col_tile,
            page_shift,
            max(1, tiles.col_tile >> page_shift),
            full_metadata,
            call.max_seqlen_k is None and not call.live_prefix,
            call.live_prefix,
            call.zero_cu_heads,
            kernel_id(mode),
            mode is DRAFT_EXTEND and call.static_extend_len,
            call.padding_floor if mode.pads_below_one else 0,
            call.index_kpool.bit_length() - 1,
            has_page_table_1,
            ctx_lens is not None,
            seq_lens.device.type == "cuda",
        )
        return LaunchPlan(geometry.grid, tiles.num_warps, args, shape)

    def _launch(self, plan: LaunchPlan, signature: tuple | None, tensors: list[torch.Tensor]) -> None:
        if plan.direct is not None:
            plan.direct()
            return
        if signature is None:
            self.kernel[plan.grid](*plan.args, num_warps=plan.num_warps)
            return
        plan.direct = _triton_launch.first_launch(self.kernel, plan.grid, plan.args, num_warps=plan.num_warps)
        if plan.direct is not None:
            plan.args = ()
            plan.holds = tensor_guard(tensors)
            if len(self.plans) >= _MAX_PLANS:
                self.plans.clear()
            self.plans[signature] = plan


LAUNCHER = Launcher(dsa_metadata_kernel, launch_geometry)
