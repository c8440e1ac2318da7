"""A copy of kernel/draft_extend_metadata.py's kernel with planted defects, one per DEFECT id.

DEFECT is a tl.constexpr, so each id compiles its own variant and id 0 is the shipped kernel, line
for line. `launch_with_defect` mirrors the shipped launcher (same checks, same launch geometry), and
`with_defect` turns one DEFECT id into a mutant: `fill_draft_extend_metadata = with_defect(ID)`.
"""

from __future__ import annotations

import functools

import torch
import triton
import triton.language as tl

from kernel.draft_extend_metadata import SCAN_BLOCK, launch_geometry
from kernel.validation import check_call
from properties.harness import Contract
from properties.mutants._contract import contract
from reference.buffers import DraftExtendMetadataBuffers

NO_DEFECT = 0
POOL_INDEX_IGNORED = 1  # source row is the request index b, not req_pool_indices[b]
PAGE_TABLE_STRIDE_ASSUMED = 2  # page_table_1 row stride taken as max_seqlen_k
REAL_TABLE_STRIDE_ASSUMED = 3  # real_page_table row stride taken as its logical width
REQ_TO_TOKEN_STRIDE_ASSUMED = 4  # req_to_token row stride taken as max_seqlen_k
COLUMN_ONE_PAST = 5  # column mask `<=` col_end: one column past max_seqlen_k
TOKEN_ROW_ONE_PAST = 6  # token mask `<=` block_tokens: writes row `total`
CU_WRITES_ELEMENT_ZERO = 7  # program 0 stores 0 into cu_seqlens_k[0]
SINGLE_REQUEST_BLOCK = 8  # grid has one request block: only the first REQS requests
TOKEN_TILE_DROPS_PARTIAL = 9  # token-tile loop bound drops the last partial tile
KV_PREFIX_RESTARTS = 10  # cu_seqlens_k prefix sum restarts at every program
NSA_PREFIX_RESTARTS = 11  # nsa_cu_seqlens_k prefix sum restarts at every program
COLUMN_TILE_FROZEN = 12  # column tile offset uses col_begin instead of the loop variable
REAL_TABLE_TRUNC_DIV = 13  # `//` (truncating) instead of an arithmetic shift
REAL_TABLE_PAGE_AS_COLUMN = 14  # reads column p instead of column p * page_size
REAL_TABLE_FLOOR_PAGES = 15  # page count floor(max_seqlen_k / page_size)
SEQ_LENS_AS_INT32 = 16  # int64 seq_lens read through an int32 pointer
POOL_INDICES_AS_INT32 = 17  # int64 req_pool_indices read through an int32 pointer
CLIPPED_PREFIX_INT32 = 18  # closed-form clipped prefix computed in int32
OWNER_MASK_INCLUSIVE = 19  # token ownership test `local <= token_end`
NSA_CLIP_TOPK_MINUS_ONE = 20  # nsa_cache_seqlens clipped at topk - 1
EXPANDED_START_OFF_BY_ONE = 21  # visible = kv - qo + step (missing + 1)
CACHE_SEQLENS_ONE_PAST = 22  # request mask `reqs <= bs` on cache_seqlens_int32
GRID_AXES_SWAPPED = 23  # program_id(0) / program_id(1) roles swapped
POOL_ROWS_BLOCK_OFFSET_MISSING = 24  # req_pool_indices read at arange(REQS), not first_req + arange


@triton.jit
def _clipped_prefix(n, topk):
    # sum(min(x, topk) for x in 1..n), for n >= 0, in int64
    return tl.where(n <= topk, n * (n + 1) // 2, topk * (topk + 1) // 2 + (n - topk) * topk)


@triton.jit
def _clipped_prefix_d(n, topk, DEFECT: tl.constexpr):
    if DEFECT == 18:
        # DEFECT 18: the closed form evaluated in int32; n * (n + 1) overflows once n > 46340.
        return _clipped_prefix(n.to(tl.int32), topk.to(tl.int32)).to(tl.int64)
    else:
        return _clipped_prefix(n, topk)


@triton.jit(
    do_not_specialize=[
        "bs",
        "max_seqlen_k",
        "real_cols",
        "nsa_index_topk",
        "log2_page_size",
        "token_capacity",
        "cols_per_program",
        "pool_size",
        "req_to_token_width",
        "page_table_1_width",
        "cache_capacity",
    ]
)
def draft_extend_metadata_kernel_with_defect(
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
    real_cols,
    nsa_index_topk,
    log2_page_size,
    token_capacity,
    cols_per_program,
    pool_size,  # the four sizes below only keep defective variants inside their allocations
    req_to_token_width,
    page_table_1_width,
    cache_capacity,
    REQS: tl.constexpr,
    SCAN_BLOCK: tl.constexpr,
    TOKEN_TILE: tl.constexpr,
    COL_TILE: tl.constexpr,
    FULL_METADATA: tl.constexpr,
    PAGED: tl.constexpr,
    DEFECT: tl.constexpr,
):
    if DEFECT == 23:
        first_req = tl.program_id(1) * REQS
        col_slice = tl.program_id(0)
    else:
        first_req = tl.program_id(0) * REQS
        col_slice = tl.program_id(1)
    topk = nsa_index_topk.to(tl.int64)
    if DEFECT == 16:
        seq_lens_ptr = seq_lens_ptr.to(tl.pointer_type(tl.int32))
    if DEFECT == 17:
        req_pool_indices_ptr = req_pool_indices_ptr.to(tl.pointer_type(tl.int32))
    if DEFECT == 4:
        req_to_token_stride = max_seqlen_k
    if DEFECT == 2:
        page_table_1_stride = max_seqlen_k
    if DEFECT == 3:
        real_page_table_stride = real_cols

    # Prefix sums over every request before this program's block.
    tokens_before = tl.zeros((), dtype=tl.int64)
    kv_before = tl.zeros((), dtype=tl.int64)
    clipped_before = tl.zeros((), dtype=tl.int64)
    for start in range(0, first_req, SCAN_BLOCK):
        offs = start + tl.arange(0, SCAN_BLOCK)
        m = offs < first_req
        if DEFECT == 23:
            m = m & (offs < bs)  # with swapped axes first_req can pass bs; stay inside the inputs
        qo = tl.load(extend_seq_lens_ptr + offs, mask=m, other=0).to(tl.int64)
        kv = tl.load(seq_lens_ptr + offs, mask=m, other=0).to(tl.int64)
        tokens_before += tl.sum(qo, axis=0)
        if DEFECT != 10:
            kv_before += tl.sum(kv.to(tl.int32).to(tl.int64), axis=0)
        if DEFECT != 11:
            clipped_before += tl.sum(
                _clipped_prefix_d(kv, topk, DEFECT) - _clipped_prefix_d(kv - qo, topk, DEFECT), axis=0
            )

    reqs = first_req + tl.arange(0, REQS)
    req_mask = reqs < bs
    qo = tl.load(extend_seq_lens_ptr + reqs, mask=req_mask, other=0).to(tl.int64)
    kv = tl.load(seq_lens_ptr + reqs, mask=req_mask, other=0).to(tl.int64)
    token_end = tl.cumsum(qo, axis=0)
    token_start = token_end - qo
    block_tokens = tl.sum(qo, axis=0)
    clipped = _clipped_prefix_d(kv, topk, DEFECT) - _clipped_prefix_d(kv - qo, topk, DEFECT)
    clipped_start = clipped_before + tl.cumsum(clipped, axis=0) - clipped

    if FULL_METADATA:
        if col_slice == 0:
            kv32 = kv.to(tl.int32)
            if DEFECT == 22:
                tl.store(cache_seqlens_ptr + reqs, kv32, mask=(reqs <= bs) & (reqs < cache_capacity))
            else:
                tl.store(cache_seqlens_ptr + reqs, kv32, mask=req_mask)
            cu_kv = kv_before + tl.cumsum(kv32.to(tl.int64), axis=0)
            tl.store(cu_seqlens_k_ptr + 1 + reqs, cu_kv.to(tl.int32), mask=req_mask)
            if DEFECT == 7:
                if first_req == 0:
                    tl.store(cu_seqlens_k_ptr, 0)
        if DEFECT == 24:
            pool_rows = tl.load(req_pool_indices_ptr + tl.arange(0, REQS), mask=req_mask, other=0).to(tl.int64)
        elif DEFECT == 1:
            pool_rows = reqs.to(tl.int64) % pool_size
        else:
            pool_rows = tl.load(req_pool_indices_ptr + reqs, mask=req_mask, other=0).to(tl.int64)
        col_begin = col_slice * cols_per_program
        col_end = tl.minimum(col_begin + cols_per_program, max_seqlen_k)
        page_begin = (col_begin + (1 << log2_page_size) - 1) >> log2_page_size
        if DEFECT == 15:
            page_end = tl.minimum(col_end >> log2_page_size, real_cols)
        else:
            page_end = tl.minimum((col_end + (1 << log2_page_size) - 1) >> log2_page_size, real_cols)

    if DEFECT == 9:
        token_loop_end = block_tokens - TOKEN_TILE + 1
    else:
        token_loop_end = block_tokens
    for t0 in range(0, token_loop_end, TOKEN_TILE):
        local = t0 + tl.arange(0, TOKEN_TILE)
        # One-hot owner of each token among this program's requests: a [TOKEN_TILE, REQS] compare
        # instead of a search, so no token ever looks past its own program's requests.
        if DEFECT == 19:
            owner = (local[:, None] >= token_start[None, :]) & (local[:, None] <= token_end[None, :])
        else:
            owner = (local[:, None] >= token_start[None, :]) & (local[:, None] < token_end[None, :])
        token = tokens_before + local
        if DEFECT == 6:
            token_mask = (local <= block_tokens) & (token < token_capacity)
        else:
            token_mask = (local < block_tokens) & (token < token_capacity)
        if col_slice == 0:
            owner_kv = tl.sum(tl.where(owner, kv[None, :], 0), axis=1)
            owner_qo = tl.sum(tl.where(owner, qo[None, :], 0), axis=1)
            step = local - tl.sum(tl.where(owner, token_start[None, :], 0), axis=1)
            if DEFECT == 21:
                visible = owner_kv - owner_qo + step
            else:
                visible = owner_kv - owner_qo + 1 + step
            tl.store(seqlens_expanded_ptr + token, visible.to(tl.int32), mask=token_mask)
            if DEFECT == 20:
                tl.store(nsa_cache_seqlens_ptr + token, tl.minimum(visible, topk - 1).to(tl.int32), mask=token_mask)
            else:
                tl.store(nsa_cache_seqlens_ptr + token, tl.minimum(visible, topk).to(tl.int32), mask=token_mask)
            if FULL_METADATA:
                cu_clip = (
                    tl.sum(tl.where(owner, clipped_start[None, :], 0), axis=1)
                    + _clipped_prefix_d(visible, topk, DEFECT)
                    - _clipped_prefix_d(owner_kv - owner_qo, topk, DEFECT)
                )
                tl.store(nsa_cu_seqlens_k_ptr + 1 + token, cu_clip.to(tl.int32), mask=token_mask)
        if FULL_METADATA:
            src_pool_rows = tl.sum(tl.where(owner, pool_rows[None, :], 0), axis=1)
            if DEFECT == 19:
                src_pool_rows = tl.minimum(src_pool_rows, pool_size - 1)  # stay inside the pool
            src_rows = src_pool_rows * req_to_token_stride
            dst_rows = token * page_table_1_stride
            for c in range(col_begin, col_end, COL_TILE):
                if DEFECT == 12:
                    cols = col_begin + tl.arange(0, COL_TILE)
                else:
                    cols = c + tl.arange(0, COL_TILE)
                if DEFECT == 5:
                    inside = (cols < req_to_token_width) & (cols < page_table_1_width)  # stay inside the allocations
                    m = token_mask[:, None] & ((cols <= col_end) & inside)[None, :]
                else:
                    m = token_mask[:, None] & (cols < col_end)[None, :]
                slots = tl.load(req_to_token_ptr + src_rows[:, None] + cols[None, :], mask=m)
                tl.store(page_table_1_ptr + dst_rows[:, None] + cols[None, :], slots, mask=m)
            if PAGED:
                real_rows = token * real_page_table_stride
                for p in range(page_begin, page_end, COL_TILE):
                    pages = p + tl.arange(0, COL_TILE)
                    m = token_mask[:, None] & (pages < page_end)[None, :]
                    if DEFECT == 14:
                        first_cols = pages.to(tl.int64)
                    else:
                        first_cols = pages.to(tl.int64) << log2_page_size
                    first_slots = tl.load(req_to_token_ptr + src_rows[:, None] + first_cols[None, :], mask=m)
                    if DEFECT == 13:
                        # Truncating division: rounds negative slots toward zero, not down.
                        real = first_slots // (1 << log2_page_size)
                    else:
                        # An arithmetic shift is floor division by a power of two, negatives included.
                        real = first_slots >> log2_page_size
                    tl.store(real_page_table_ptr + real_rows[:, None] + pages[None, :], real, mask=m)


def launch_with_defect(
    defect_id: int,
    seq_lens: torch.Tensor,
    extend_seq_lens: torch.Tensor,
    req_pool_indices: torch.Tensor,
    req_to_token: torch.Tensor,
    buffers: DraftExtendMetadataBuffers,
    *,
    nsa_index_topk: int,
    page_size: int,
    max_seqlen_k: int,
) -> None:
    """The shipped launcher's `fill_draft_extend_metadata`, launching the kernel with DEFECT=defect_id."""
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
    geometry = launch_geometry(shape.bs, max_seqlen_k, seq_lens.device)
    req_programs = geometry.req_programs
    if defect_id == SINGLE_REQUEST_BLOCK:
        req_programs = 1
    grid = (req_programs, geometry.col_programs)
    page_table_1 = buffers.page_table_1
    real_page_table = buffers.real_page_table
    draft_extend_metadata_kernel_with_defect[grid](
        seq_lens,
        extend_seq_lens,
        req_pool_indices,
        req_to_token,
        req_to_token.stride(0),
        buffers.cache_seqlens_int32,
        buffers.cu_seqlens_k,
        page_table_1,
        page_table_1.stride(0),
        real_page_table,
        real_page_table.stride(0),
        buffers.nsa_seqlens_expanded,
        buffers.nsa_cache_seqlens_int32,
        buffers.nsa_cu_seqlens_k,
        shape.bs,
        max_seqlen_k,
        shape.real_cols,
        nsa_index_topk,
        page_size.bit_length() - 1,
        shape.token_capacity,
        # Each column program takes one contiguous slice of the columns.
        -(-max(1, -(-max_seqlen_k // geometry.col_tile)) // geometry.col_programs) * geometry.col_tile,
        req_to_token.shape[0],
        req_to_token.shape[1],
        page_table_1.shape[1],
        buffers.cache_seqlens_int32.shape[0],
        REQS=geometry.reqs,
        SCAN_BLOCK=SCAN_BLOCK,
        TOKEN_TILE=geometry.token_tile,
        COL_TILE=geometry.col_tile,
        FULL_METADATA=True,
        PAGED=page_size > 1,
        DEFECT=defect_id,
    )


def with_defect(defect_id: int) -> Contract:
    """The contract's `fill_draft_extend_metadata`, signature and all, launching DEFECT=defect_id."""
    return contract(functools.partial(launch_with_defect, defect_id))
