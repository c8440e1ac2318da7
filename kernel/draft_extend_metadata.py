"""One Triton launch that fills all draft-extend metadata buffers, with no host sync.

Program (i, j) owns requests [i*REQS, (i+1)*REQS) and every j-th tile of the page-table columns.
Where its tokens start in the packed token axis (and where its cu buffers start) is the sum of the
extend lengths (and kv lengths, and clipped lengths) of every earlier request: each program reads
those as whole vectors, SCAN_BLOCK at a time, and reduces them; no scalar loop over the batch and
no per-token search. The clipped lengths of a request sum in closed form, so the NSA prefix sum
needs no per-token pass either. Page rows move as [TOKEN_TILE, COL_TILE] tiles, and the real page
table is taken from the tile already loaded.

The batch size, max_seqlen_k and the grid are runtime values, so one compiled kernel serves every
batch size; only the input dtypes, the page-size case and which outputs are wanted select a
variant. With max_seqlen_k=None (graph-resident mode) the kernel finds max(seq_lens) itself and the
grid is sized from the buffers, so a captured launch needs nothing from the host at replay.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import triton
import triton.language as tl

from kernel import _triton_launch
from kernel.validation import CallShape, check_call, check_expand_call, check_values, validation_requested
from reference.buffers import DraftExtendMetadataBuffers


@triton.jit
def _clipped_prefix(n, topk):
    # sum(min(x, topk) for x in 1..n), for n >= 0, in int64
    return tl.where(n <= topk, n * (n + 1) // 2, topk * (topk + 1) // 2 + (n - topk) * topk)


@triton.jit
def _store_token_lengths(
    seqlens_expanded_ptr, nsa_cache_seqlens_ptr, nsa_cu_seqlens_k_ptr, token, token_mask, visible, topk, cu_base,
    FULL_METADATA: tl.constexpr,
):
    # A token's expanded and clipped lengths, and the NSA prefix sum through it: cu_base is the sum
    # through every earlier request, less the clipped prefix of its own request's first kv - qo.
    tl.store(seqlens_expanded_ptr + token, visible.to(tl.int32), mask=token_mask)
    tl.store(nsa_cache_seqlens_ptr + token, tl.minimum(visible, topk).to(tl.int32), mask=token_mask)
    if FULL_METADATA:
        tl.store(nsa_cu_seqlens_k_ptr + 1 + token, (cu_base + _clipped_prefix(visible, topk)).to(tl.int32), mask=token_mask)


@triton.jit
def _per_request_program(
    seq_lens_ptr,
    extend_seq_lens_ptr,
    req_pool_indices_ptr,
    req_to_token_ptr,
    req_to_token_stride,
    cache_seqlens_ptr,
    cu_seqlens_k_ptr,
    page_table_1_ptr,
    page_table_1_stride,
    real_page_table_ptr,
    real_page_table_stride,
    seqlens_expanded_ptr,
    nsa_cache_seqlens_ptr,
    nsa_cu_seqlens_k_ptr,
    max_seqlen_k,
    bs,
    topk,
    log2_page_size,
    token_capacity,
    BATCH_BLOCK: tl.constexpr,
    TOKEN_TILE: tl.constexpr,
    COL_TILE: tl.constexpr,
    FULL_METADATA: tl.constexpr,
    PAGED: tl.constexpr,
    DEVICE_MAX_SEQLEN: tl.constexpr,
    ZERO_CU_HEADS: tl.constexpr,
):
    # Small batches: program (b, j) is request b and every j-th column tile. The whole batch fits one
    # vector load, so where the request's tokens start, its prefix sums and (graph-resident) the
    # longest sequence all come from that one load; the request's row tile is then read once and
    # stored to each of its token rows. Every program waits on two loads in a row, whatever bs and
    # the extend lengths are, where a token-tile program waits once per tile.
    b = tl.program_id(0)
    col_slice = tl.program_id(1)
    lanes = tl.arange(0, BATCH_BLOCK)
    in_batch = lanes < bs
    qo_all = tl.load(extend_seq_lens_ptr + lanes, mask=in_batch, other=0).to(tl.int64)
    kv_all = tl.load(seq_lens_ptr + lanes, mask=in_batch, other=0).to(tl.int64)
    mine = lanes == b
    before = lanes < b
    qo = tl.sum(tl.where(mine, qo_all, 0), axis=0)
    kv = tl.sum(tl.where(mine, kv_all, 0), axis=0)
    token_start = tl.sum(tl.where(before, qo_all, 0), axis=0)
    if DEVICE_MAX_SEQLEN:
        max_seqlen_k = tl.minimum(tl.max(kv_all, axis=0), max_seqlen_k)

    if col_slice == 0:
        if FULL_METADATA:
            kv32 = kv_all.to(tl.int32)
            tl.store(cache_seqlens_ptr + b, kv.to(tl.int32))
            cu_kv = tl.sum(tl.where(lanes <= b, kv32.to(tl.int64), 0), axis=0)
            tl.store(cu_seqlens_k_ptr + 1 + b, cu_kv.to(tl.int32))
            if ZERO_CU_HEADS:
                if b == 0:
                    tl.store(cu_seqlens_k_ptr, tl.full((), 0, tl.int32))
                    tl.store(nsa_cu_seqlens_k_ptr, tl.full((), 0, tl.int32))
        clipped_all = _clipped_prefix(kv_all, topk) - _clipped_prefix(kv_all - qo_all, topk)
        clipped_before = tl.sum(tl.where(before, clipped_all, 0), axis=0)
        for t0 in range(0, qo, TOKEN_TILE):
            step = t0 + tl.arange(0, TOKEN_TILE)
            token = token_start + step
            token_mask = (step < qo) & (token < token_capacity)
            _store_token_lengths(
                seqlens_expanded_ptr, nsa_cache_seqlens_ptr, nsa_cu_seqlens_k_ptr, token, token_mask,
                kv - qo + 1 + step, topk, clipped_before - _clipped_prefix(kv - qo, topk), FULL_METADATA,
            )

    if FULL_METADATA:
        pool_row = tl.load(req_pool_indices_ptr + b).to(tl.int64)
        src = req_to_token_ptr + pool_row * req_to_token_stride
        rows = tl.minimum(qo, token_capacity - token_start)
        # A request with no rows to write reads nothing either.
        col_end = tl.where(rows > 0, max_seqlen_k, 0)
        for c in range(col_slice * COL_TILE, col_end, tl.num_programs(1) * COL_TILE):
            cols = c + tl.arange(0, COL_TILE)
            m = cols < col_end
            slots = tl.load(src + cols, mask=m)
            for t in range(0, rows):
                token = token_start + t
                tl.store(page_table_1_ptr + token * page_table_1_stride + cols, slots, mask=m)
                if PAGED:
                    first_of_page = (cols & ((1 << log2_page_size) - 1)) == 0
                    tl.store(
                        real_page_table_ptr + token * real_page_table_stride + (cols >> log2_page_size),
                        slots >> log2_page_size,
                        mask=m & first_of_page,
                    )


@triton.jit(
    do_not_specialize=[
        "bs",
        "max_seqlen_k",
        "nsa_index_topk",
        "log2_page_size",
        "token_capacity",
    ]
)
def draft_extend_metadata_kernel(
    seq_lens_ptr,
    extend_seq_lens_ptr,
    req_pool_indices_ptr,
    req_to_token_ptr,
    req_to_token_stride,
    cache_seqlens_ptr,
    cu_seqlens_k_ptr,
    page_table_1_ptr,
    page_table_1_stride,
    real_page_table_ptr,
    real_page_table_stride,
    seqlens_expanded_ptr,
    nsa_cache_seqlens_ptr,
    nsa_cu_seqlens_k_ptr,
    bs,
    max_seqlen_k,
    nsa_index_topk,
    log2_page_size,
    token_capacity,
    REQS: tl.constexpr,
    SCAN_BLOCK: tl.constexpr,
    TOKEN_TILE: tl.constexpr,
    COL_TILE: tl.constexpr,
    FULL_METADATA: tl.constexpr,
    PAGED: tl.constexpr,
    DEVICE_MAX_SEQLEN: tl.constexpr,
    PER_REQUEST: tl.constexpr,
    ZERO_CU_HEADS: tl.constexpr,
):
    if PER_REQUEST:
        _per_request_program(
            seq_lens_ptr, extend_seq_lens_ptr, req_pool_indices_ptr, req_to_token_ptr, req_to_token_stride,
            cache_seqlens_ptr, cu_seqlens_k_ptr, page_table_1_ptr, page_table_1_stride, real_page_table_ptr,
            real_page_table_stride, seqlens_expanded_ptr, nsa_cache_seqlens_ptr, nsa_cu_seqlens_k_ptr,
            max_seqlen_k, bs, nsa_index_topk.to(tl.int64), log2_page_size, token_capacity, SCAN_BLOCK, TOKEN_TILE,
            COL_TILE, FULL_METADATA, PAGED, DEVICE_MAX_SEQLEN, ZERO_CU_HEADS,
        )
        return
    first_req = tl.program_id(0) * REQS
    col_slice = tl.program_id(1)
    topk = nsa_index_topk.to(tl.int64)

    # Prefix sums over every request before this program's block; in graph-resident mode the scan
    # runs over the whole batch, to take max(seq_lens) as max_seqlen_k on the device, where the
    # host passed only the buffers' column capacity.
    tokens_before = tl.zeros((), dtype=tl.int64)
    kv_before = tl.zeros((), dtype=tl.int64)
    clipped_before = tl.zeros((), dtype=tl.int64)
    longest = tl.zeros((), dtype=tl.int64)
    scan_end = first_req
    if DEVICE_MAX_SEQLEN:
        scan_end = bs
    for start in range(0, scan_end, SCAN_BLOCK):
        offs = start + tl.arange(0, SCAN_BLOCK)
        m = offs < scan_end
        qo = tl.load(extend_seq_lens_ptr + offs, mask=m, other=0).to(tl.int64)
        kv = tl.load(seq_lens_ptr + offs, mask=m, other=0).to(tl.int64)
        if DEVICE_MAX_SEQLEN:
            longest = tl.maximum(longest, tl.max(kv, axis=0))
            before = offs < first_req
            qo = tl.where(before, qo, 0)
            kv = tl.where(before, kv, 0)
        tokens_before += tl.sum(qo, axis=0)
        kv_before += tl.sum(kv.to(tl.int32).to(tl.int64), axis=0)
        clipped_before += tl.sum(_clipped_prefix(kv, topk) - _clipped_prefix(kv - qo, topk), axis=0)
    if DEVICE_MAX_SEQLEN:
        max_seqlen_k = tl.minimum(longest, max_seqlen_k)

    reqs = first_req + tl.arange(0, REQS)
    req_mask = reqs < bs
    qo = tl.load(extend_seq_lens_ptr + reqs, mask=req_mask, other=0).to(tl.int64)
    kv = tl.load(seq_lens_ptr + reqs, mask=req_mask, other=0).to(tl.int64)
    token_end = tl.cumsum(qo, axis=0)
    token_start = token_end - qo
    block_tokens = tl.sum(qo, axis=0)
    clipped = _clipped_prefix(kv, topk) - _clipped_prefix(kv - qo, topk)
    clipped_start = clipped_before + tl.cumsum(clipped, axis=0) - clipped

    if FULL_METADATA:
        if col_slice == 0:
            kv32 = kv.to(tl.int32)
            tl.store(cache_seqlens_ptr + reqs, kv32, mask=req_mask)
            cu_kv = kv_before + tl.cumsum(kv32.to(tl.int64), axis=0)
            tl.store(cu_seqlens_k_ptr + 1 + reqs, cu_kv.to(tl.int32), mask=req_mask)
            if ZERO_CU_HEADS:
                # SGLang's own kernel stores 0 there, and so does the drop-in under its name.
                if first_req == 0:
                    tl.store(cu_seqlens_k_ptr, tl.full((), 0, tl.int32))
                    tl.store(nsa_cu_seqlens_k_ptr, tl.full((), 0, tl.int32))
        pool_rows = tl.load(req_pool_indices_ptr + reqs, mask=req_mask, other=0).to(tl.int64)
    # Column tiles are dealt round-robin to the column programs, so the work of each program follows
    # max_seqlen_k, whatever the grid was sized for: in graph-resident mode that is the capacity, and
    # a program whose first tile is already past max_seqlen_k has nothing to do.
    col_begin = col_slice * COL_TILE
    col_stride = tl.num_programs(1) * COL_TILE
    tile_end = tl.where((col_slice == 0) | (col_begin < max_seqlen_k), block_tokens, 0)

    for t0 in range(0, tile_end, TOKEN_TILE):
        local = t0 + tl.arange(0, TOKEN_TILE)
        # One-hot owner of each token among this program's requests: a [TOKEN_TILE, REQS] compare
        # instead of a search, so no token ever looks past its own program's requests.
        owner = (local[:, None] >= token_start[None, :]) & (local[:, None] < token_end[None, :])
        token = tokens_before + local
        token_mask = (local < block_tokens) & (token < token_capacity)
        if col_slice == 0:
            owner_kv = tl.sum(tl.where(owner, kv[None, :], 0), axis=1)
            owner_qo = tl.sum(tl.where(owner, qo[None, :], 0), axis=1)
            step = local - tl.sum(tl.where(owner, token_start[None, :], 0), axis=1)
            visible = owner_kv - owner_qo + 1 + step
            owner_clipped_start = tl.sum(tl.where(owner, clipped_start[None, :], 0), axis=1)
            _store_token_lengths(
                seqlens_expanded_ptr, nsa_cache_seqlens_ptr, nsa_cu_seqlens_k_ptr, token, token_mask, visible, topk,
                owner_clipped_start - _clipped_prefix(owner_kv - owner_qo, topk), FULL_METADATA,
            )
        if FULL_METADATA:
            src_rows = tl.sum(tl.where(owner, pool_rows[None, :], 0), axis=1) * req_to_token_stride
            dst_rows = token * page_table_1_stride
            real_rows = token * real_page_table_stride
            for c in range(col_begin, max_seqlen_k, col_stride):
                cols = c + tl.arange(0, COL_TILE)
                m = token_mask[:, None] & (cols < max_seqlen_k)[None, :]
                slots = tl.load(req_to_token_ptr + src_rows[:, None] + cols[None, :], mask=m)
                tl.store(page_table_1_ptr + dst_rows[:, None] + cols[None, :], slots, mask=m)
                if PAGED:
                    # Page p of the real table is the first slot of columns [p*page_size, ...), so it
                    # is taken from the tile already loaded; page p < ceil(max_seqlen_k/page_size)
                    # exactly when its first column is < max_seqlen_k. An arithmetic shift is floor
                    # division by a power of two, negatives included.
                    page_start = (cols & ((1 << log2_page_size) - 1)) == 0
                    tl.store(
                        real_page_table_ptr + real_rows[:, None] + (cols >> log2_page_size)[None, :],
                        slots >> log2_page_size,
                        mask=m & page_start[None, :],
                    )


SCAN_BLOCK = 256


@dataclass(frozen=True)
class LaunchGeometry:
    reqs: int
    scan_block: int
    token_tile: int
    col_tile: int
    req_programs: int
    col_programs: int
    per_request: bool


# Per device kind: (REQS, TOKEN_TILE, COL_TILE, programs to aim for). On a GPU, enough programs to
# cover every SM a few times once the copy is large enough to matter. The interpreter pays per
# program and per reduction rather than per element, so it runs few, wide programs.
_GPU_TILES = (16, 16, 256, 1024)
_INTERPRETER_TILES = (64, 64, 1024, 4)
# Up to PER_REQUEST_BS requests, one program per request and column tile (`_per_request_program`):
# (the batch vector, COL_TILE, programs to aim for). Small batches are latency-bound, and this
# layout waits on the fewest loads in a row.
PER_REQUEST_BS = 64
_GPU_PER_REQUEST = (64, 1024, 2048)
_INTERPRETER_PER_REQUEST = (64, 1024, 8)


def launch_geometry(bs: int, max_seqlen_k: int, device: torch.device) -> LaunchGeometry:
    """The grid and tile sizes for a call. Tile sizes are fixed per device kind and per side of
    PER_REQUEST_BS, so batch size and context length change only the grid, and at most two variants
    compile per dtype combination. Column programs never outnumber what the target leaves per
    request (block), however wide max_seqlen_k (or, in graph-resident mode, the buffers) may be."""
    gpu = device.type == "cuda"
    if bs <= PER_REQUEST_BS:
        scan_block, col_tile, target = _GPU_PER_REQUEST if gpu else _INTERPRETER_PER_REQUEST
        col_tiles = max(1, -(-max_seqlen_k // col_tile))
        token_tile = (_GPU_TILES if gpu else _INTERPRETER_TILES)[1]
        return LaunchGeometry(1, scan_block, token_tile, col_tile, bs, max(1, min(col_tiles, target // max(bs, 1))), True)
    reqs, token_tile, col_tile, target = _GPU_TILES if gpu else _INTERPRETER_TILES
    req_programs = -(-bs // reqs)
    col_tiles = max(1, -(-max_seqlen_k // col_tile))
    col_programs = max(1, min(col_tiles, target // req_programs))
    return LaunchGeometry(reqs, SCAN_BLOCK, token_tile, col_tile, req_programs, col_programs, False)


class LaunchPlan:
    """Everything one launch needs, computed once per call signature.

    Host checks depend only on what the signature holds (each tensor's address, dtype, shape,
    strides and device; the host ints), and so do the kernel's arguments. So on a GPU, a call whose
    signature was seen before skips both and goes straight to the compiled kernel: the hot path costs
    a signature and a launch. A plan's first launch compiles or finds the kernel; the plan then keeps
    a direct launch of it (kernel._triton_launch) and drops its arguments, so that a cached plan keeps
    no tensor alive.
    """

    def __init__(self, grid: tuple[int, int], args: tuple, token_capacity: int, column_limit: int):
        self.grid = grid
        self.args = args
        self.token_capacity = token_capacity
        self.column_limit = column_limit
        self.direct = None


_PLANS: dict[tuple, LaunchPlan] = {}
_MAX_PLANS = 1024


def _signature(tensors: tuple[torch.Tensor, ...], host: tuple) -> tuple | None:
    """The call's host-visible signature; None where the plan cache must not be used (CPU tensors,
    which only the interpreter runs; a Triton whose private launch API is missing or changed, or a
    launch hook that wants Triton's own path; arguments that are not tensors and must reach the
    checks). Under unified addressing a device pointer also names its device."""
    try:
        if not tensors[0].is_cuda or not _triton_launch.direct_launch_usable():
            return None
        return (tuple((t.data_ptr(), t.dtype, t.shape, t.stride()) for t in tensors), *map(type, host), *host)
    except (AttributeError, TypeError):
        return None


def _launch(plan: LaunchPlan, signature: tuple | None) -> None:
    if plan.direct is not None:
        plan.direct()
        return
    if signature is None:
        draft_extend_metadata_kernel[plan.grid](*plan.args)
        return
    plan.direct = _triton_launch.first_launch(draft_extend_metadata_kernel, plan.grid, plan.args)
    if plan.direct is not None:
        plan.args = ()
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
        _PLANS[signature] = plan


def _build_plan(
    shape: CallShape,
    seq_lens: torch.Tensor,
    extend_seq_lens: torch.Tensor,
    req_pool_indices: torch.Tensor,
    req_to_token: torch.Tensor,
    outputs: tuple[torch.Tensor, ...],
    *,
    nsa_index_topk: int,
    page_size: int,
    max_seqlen_k: int,
    full_metadata: bool,
    device_max_seqlen: bool = False,
    zero_cu_heads: bool = False,
) -> LaunchPlan:
    geometry = launch_geometry(shape.bs, max_seqlen_k, seq_lens.device)
    cache_seqlens, cu_seqlens_k, page_table_1, real_page_table, expanded, clipped, nsa_cu_seqlens_k = outputs
    args = (
        seq_lens,
        extend_seq_lens,
        req_pool_indices,
        req_to_token,
        req_to_token.stride(0),
        cache_seqlens,
        cu_seqlens_k,
        page_table_1,
        page_table_1.stride(0),
        real_page_table,
        real_page_table.stride(0),
        expanded,
        clipped,
        nsa_cu_seqlens_k,
        shape.bs,
        max_seqlen_k,
        nsa_index_topk,
        page_size.bit_length() - 1,
        shape.token_capacity,
        geometry.reqs,
        geometry.scan_block,
        geometry.token_tile,
        geometry.col_tile,
        full_metadata,
        page_size > 1,
        device_max_seqlen,
        geometry.per_request,
        zero_cu_heads,
    )
    return LaunchPlan((geometry.req_programs, geometry.col_programs), args, shape.token_capacity, max_seqlen_k)


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
    """Fill all seven buffers of `buffers` for one draft-extend step: one launch, no host sync.

    max_seqlen_k=None is the graph-resident mode: the kernel takes max(seq_lens) on the device, and
    the grid is sized once from the columns the buffers (and req_to_token) hold, so a captured call
    needs nothing from the host at replay, not even the longest sequence. zero_cu_heads=True also
    stores 0 into element 0 of both cu buffers, as SGLang's kernel does (`kernel.sglang`).
    """
    if not isinstance(buffers, DraftExtendMetadataBuffers):
        raise TypeError(f"buffers must be a DraftExtendMetadataBuffers, got {type(buffers).__name__}")
    outputs = (
        buffers.cache_seqlens_int32,
        buffers.cu_seqlens_k,
        buffers.page_table_1,
        buffers.real_page_table,
        buffers.nsa_seqlens_expanded,
        buffers.nsa_cache_seqlens_int32,
        buffers.nsa_cu_seqlens_k,
    )
    signature = _signature(
        (seq_lens, extend_seq_lens, req_pool_indices, req_to_token, *outputs),
        (nsa_index_topk, page_size, max_seqlen_k, buffers.real_page_table is buffers.page_table_1, zero_cu_heads),
    )
    plan = _PLANS.get(signature) if signature is not None else None
    if plan is None:
        inputs = (seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers)
        device_max_seqlen = max_seqlen_k is None
        if device_max_seqlen:
            # Checked once with no columns to know the arguments are what they claim, then for
            # every column the kernel may be asked to fill.
            check_call(*inputs, nsa_index_topk=nsa_index_topk, page_size=page_size, max_seqlen_k=0)
            max_seqlen_k = min(req_to_token.shape[1], buffers.page_table_1.shape[1])
        options = {"nsa_index_topk": nsa_index_topk, "page_size": page_size, "max_seqlen_k": max_seqlen_k}
        shape = check_call(*inputs, **options)
        plan = _build_plan(
            shape,
            *inputs[:4],
            outputs,
            **options,
            full_metadata=True,
            device_max_seqlen=device_max_seqlen,
            zero_cu_heads=zero_cu_heads,
        )
    if validation_requested(validate):
        check_values(
            seq_lens,
            extend_seq_lens,
            token_capacity=plan.token_capacity,
            max_seqlen_k=plan.column_limit,
            req_pool_indices=req_pool_indices,
            pool_size=req_to_token.shape[0],
            nsa_index_topk=nsa_index_topk,
        )
    _launch(plan, signature)


fill_draft_extend_metadata.supports_graph_resident = True


def _expand(extend_seq_lens, seq_lens, nsa_index_topk, out_seqlens_expanded, out_nsa_cache_seqlens, check) -> None:
    """Plan (or find the plan for) an expand-only launch, run `check(plan)`, then launch."""
    signature = _signature((extend_seq_lens, seq_lens, out_seqlens_expanded, out_nsa_cache_seqlens), (nsa_index_topk,))
    plan = _PLANS.get(signature) if signature is not None else None
    if plan is None:
        shape = check_expand_call(
            extend_seq_lens, seq_lens, nsa_index_topk, out_seqlens_expanded, out_nsa_cache_seqlens
        )
        # The page-table and per-request outputs are compiled out; any int32 tensor stands in for them.
        unused = out_seqlens_expanded
        table = unused[None, :]
        outputs = (unused, unused, table, table, out_seqlens_expanded, out_nsa_cache_seqlens, unused)
        plan = _build_plan(
            shape,
            seq_lens,
            extend_seq_lens,
            seq_lens,
            table,
            outputs,
            nsa_index_topk=nsa_index_topk,
            page_size=1,
            max_seqlen_k=0,
            full_metadata=False,
        )
    check(plan)
    _launch(plan, signature)


def expand_seqlens_into(
    extend_seq_lens: torch.Tensor,
    seq_lens: torch.Tensor,
    nsa_index_topk: int,
    out_seqlens_expanded: torch.Tensor,
    out_nsa_cache_seqlens: torch.Tensor,
    *,
    validate: bool | None = None,
) -> None:
    """Write the expanded and the clipped lengths into preallocated int32 vectors; no host sync."""

    def check(plan: LaunchPlan) -> None:
        if validation_requested(validate):
            check_values(seq_lens, extend_seq_lens, token_capacity=plan.token_capacity, nsa_index_topk=nsa_index_topk)

    _expand(extend_seq_lens, seq_lens, nsa_index_topk, out_seqlens_expanded, out_nsa_cache_seqlens, check)


def expand_seqlens(
    extend_seq_lens: torch.Tensor,
    seq_lens: torch.Tensor,
    nsa_index_topk: int,
    *,
    total_tokens: int | None = None,
    validate: bool | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Allocate and return (seqlens_expanded, nsa_cache_seqlens).

    Without `total_tokens` the output size is read from the device: that is this API's one sync.
    Pass `total_tokens` (it must equal sum(extend_seq_lens); validation mode checks it) to avoid it.
    """
    if not isinstance(extend_seq_lens, torch.Tensor):
        raise TypeError(f"extend_seq_lens must be a torch.Tensor, got {type(extend_seq_lens).__name__}")
    if total_tokens is None:
        total_tokens = int(extend_seq_lens.sum())
    elif isinstance(total_tokens, bool) or not isinstance(total_tokens, int) or total_tokens < 0:
        raise ValueError(f"total_tokens must be a non-negative int, got {total_tokens!r}")
    seqlens_expanded = torch.empty(total_tokens, dtype=torch.int32, device=extend_seq_lens.device)
    nsa_cache_seqlens = torch.empty(total_tokens, dtype=torch.int32, device=extend_seq_lens.device)

    def check(plan: LaunchPlan) -> None:
        if validation_requested(validate):
            check_values(
                seq_lens, extend_seq_lens, token_capacity=total_tokens, nsa_index_topk=nsa_index_topk, total_tokens=total_tokens
            )

    _expand(extend_seq_lens, seq_lens, nsa_index_topk, seqlens_expanded, nsa_cache_seqlens, check)
    return seqlens_expanded, nsa_cache_seqlens
