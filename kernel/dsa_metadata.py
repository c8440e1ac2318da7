"""One Triton launch that fills every replay-metadata buffer of a DSA forward mode, with no host sync.

One body serves decode, target-verify and draft-extend, the forward mode a compile-time constant
(`FORWARD_MODE`): each is one pair per request, a kv length and a number of tokens
(reference.modes), read from seq_lens and extend_seq_lens for draft-extend, from seq_lens alone for
decode (one token) and target-verify (next_n tokens over seq_lens + next_n).

Program i * col_programs + j owns requests [i*REQS, (i+1)*REQS) and every j-th tile of the
page-table columns. Each request's row of req_to_token is read once per column tile and stored to
every token row of the request, one extend step at a time and streaming past L2, so the reads are
what a copy of the rows would read. Where the program's tokens start in the packed token axis (and
its cu buffers) is the sum of the extend lengths (and kv lengths, and clipped lengths) of every
earlier request: each program reads those as whole vectors, SCAN_BLOCK at a time, and reduces them;
no scalar loop over the batch and no per-token search. The clipped lengths of a request sum in closed form, so the NSA prefix sum needs
no per-token pass either. The real page table is one lane per page: the page size is a compile-time
constant, as it is for a deployment, and each page's first slot is read with the tile.

The first tile's load is issued before the sums: it needs only the program's own pool rows, so the
sums' loads and reductions hide under it and a small batch waits on two loads in a row, as a plain
copy of one row would. With max_seqlen_k=None (graph-resident mode) the kernel takes the longest kv
length (max(seq_lens), plus next_n for target-verify) itself, while that load is in flight, and the
grid is sized from the buffers, so a captured launch needs nothing from the host at replay. The
batch size, max_seqlen_k and the grid are runtime values, so one compiled kernel serves every batch
size of a bucket (`launch_geometry`), and next_n is a runtime value too; only the forward mode, the
input dtypes, the page-size case and which outputs are wanted select a variant.

Under a live-prefix engine profile (`live_prefix=True`, sglang-dsa's and sglang-dsv4's rule) each
token row's page rows end at its request's kv length: no program reads or writes a column past it,
so a serving batch of mixed lengths moves only the bytes a consumer reads, and graph-resident mode
needs no max(seq_lens) at all, since each request's own length bounds its columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import triton
import triton.language as tl

from kernel import _triton_launch
from kernel.validation import (
    CallShape,
    check_expand_call,
    check_mode_call,
    check_mode_values,
    check_values,
    column_capacity,
    validation_requested,
)
from reference.buffers import MetadataBuffers
from reference.eager import DEFAULT_PADDING_FLOOR
from reference.modes import DECODE as DECODE_MODE
from reference.modes import DRAFT_EXTEND as DRAFT_EXTEND_MODE
from reference.modes import TARGET_VERIFY as TARGET_VERIFY_MODE
from reference.modes import ForwardMode


# The forward mode as the kernel's compile-time choice: globals a @triton.jit body reads must be constexpr.
DRAFT_EXTEND, DECODE, TARGET_VERIFY = tl.constexpr(0), tl.constexpr(1), tl.constexpr(2)
_FORWARD_MODES = {"draft-extend": DRAFT_EXTEND.value, "decode": DECODE.value, "target-verify": TARGET_VERIFY.value}


@triton.jit
def _sparse_length(visible, topk, KPOOL_SHIFT: tl.constexpr):
    # A token's sparse length (reference.engines.sparse_length): min(visible, topk), or with KPool
    # k = 2^KPOOL_SHIFT, min(visible // k * k, topk) + visible % k; visible is never negative here.
    if KPOOL_SHIFT == 0:
        return tl.minimum(visible, topk)
    return tl.minimum((visible >> KPOOL_SHIFT) << KPOOL_SHIFT, topk) + (visible & ((1 << KPOOL_SHIFT) - 1))


@triton.jit
def _clipped_prefix(n, topk, FLOOR: tl.constexpr, KPOOL_SHIFT: tl.constexpr):
    # F with F(0) = 0 and F(n) - F(n - 1) = sparse(max(n, FLOOR)), in int64: the running sum of the
    # sparse lengths up to a causal length n. Below 0 each length is kept at the mode's floor
    # (ForwardMode.expanded_lengths), whose sparse length is the floor itself, so F(n) = n * FLOOR: a
    # draft-extend padding request's kv - qo is negative, and so is a decode request's of seq_len 0.
    # Without KPool, F(n) = sum(min(x, topk) for x in 1..n). With KPool k (k divides topk) every
    # length below topk + k is its own sparse length, and from there on each is topk + x % k, whose
    # residues run 0, 1, .., k - 1 from topk + k, a multiple of k.
    if KPOOL_SHIFT == 0:
        return tl.where(n < 0, n * FLOOR, tl.where(n <= topk, n * (n + 1) // 2, topk * (topk + 1) // 2 + (n - topk) * topk))
    k = 1 << KPOOL_SHIFT
    edge = topk + k
    past = n - edge + 1
    cycles = past >> KPOOL_SHIFT
    rest = past & (k - 1)
    pooled = (edge - 1) * edge // 2 + past * topk + cycles * (k * (k - 1) // 2) + rest * (rest - 1) // 2
    return tl.where(n < 0, n * FLOOR, tl.where(n < edge, n * (n + 1) // 2, pooled))


@triton.jit
def _request_lengths(seq_lens_ptr, extend_seq_lens_ptr, reqs, mask, next_n, FORWARD_MODE: tl.constexpr):
    # (kv length, number of tokens) of each request of `reqs`, 0 for those masked off.
    seq = tl.load(seq_lens_ptr + reqs, mask=mask, other=0).to(tl.int64)
    if FORWARD_MODE == DRAFT_EXTEND:
        return seq, tl.load(extend_seq_lens_ptr + reqs, mask=mask, other=0).to(tl.int64)
    elif FORWARD_MODE == DECODE:
        return seq, mask.to(tl.int64)
    else:
        draft = tl.where(mask, next_n, 0).to(tl.int64)
        return seq + draft, draft


@triton.jit
def _add3(a0, a1, a2, b0, b1, b2):
    return a0 + b0, a1 + b1, a2 + b2


@triton.jit
def _three_sums(a, b, c, ONE_REDUCTION: tl.constexpr):
    # On a GPU one reduction of three sums waits on one barrier, not three. Triton's interpreter
    # runs a reduction with a combine function one element at a time in Python (about half a
    # millisecond an element), and tl.sum as one numpy call: there the sums are taken apart.
    if ONE_REDUCTION:
        return tl.reduce((a, b, c), 0, _add3)
    return tl.sum(a, axis=0), tl.sum(b, axis=0), tl.sum(c, axis=0)


@triton.jit
def _store_token_lengths(
    seqlens_expanded_ptr, nsa_cache_seqlens_ptr, nsa_cu_seqlens_k_ptr, token, token_mask, causal, topk, cu_base,
    FULL_METADATA: tl.constexpr, FORWARD_MODE: tl.constexpr, FLOOR: tl.constexpr, KPOOL_SHIFT: tl.constexpr,
):
    # A token's expanded and clipped lengths, and the NSA prefix sum through it: cu_base is the sum
    # through every earlier request, less the clipped prefix of its own request's first kv - qo. The
    # causal length kv - qo + 1 + step is kept at the mode's floor (ForwardMode.expanded_lengths); the
    # prefix takes it as it is, since _clipped_prefix already counts the floor. Decode has no
    # expanded-lengths buffer: its tokens' lengths are cache_seqlens.
    visible = tl.maximum(causal, FLOOR)
    if FORWARD_MODE != DECODE:
        tl.store(seqlens_expanded_ptr + token, visible.to(tl.int32), mask=token_mask)
    tl.store(nsa_cache_seqlens_ptr + token, _sparse_length(visible, topk, KPOOL_SHIFT).to(tl.int32), mask=token_mask)
    if FULL_METADATA:
        tl.store(
            nsa_cu_seqlens_k_ptr + 1 + token,
            (cu_base + _clipped_prefix(causal, topk, FLOOR, KPOOL_SHIFT)).to(tl.int32),
            mask=token_mask,
        )


@triton.jit
def _column_ends(kv, has_rows, max_seqlen_k, LIVE_PREFIX: tl.constexpr):
    # Where each request's page rows end: at max_seqlen_k, or under a live-prefix engine profile at
    # its kv length (no consumer reads past it, so neither is read nor written); 0 for a request with
    # no rows to write.
    if LIVE_PREFIX:
        return tl.where(has_rows, tl.minimum(kv, max_seqlen_k), 0).to(tl.int32)
    return tl.where(has_rows, max_seqlen_k, 0).to(tl.int32)


@triton.jit
def _load_columns(src_rows, cols, col_end):
    # Columns `cols` of each request's row of req_to_token, none at or past the request's col_end.
    return tl.load(src_rows[:, None] + cols[None, :], mask=cols[None, :] < col_end[:, None])


@triton.jit
def _page_starts(c, COL_TILE: tl.constexpr, PAGE_SHIFT: tl.constexpr, PAGE_TILE: tl.constexpr):
    # The first column of every page that starts in the tile [c, c + COL_TILE): page p of the real
    # table is req_to_token's slot at column p * page_size, shifted. Lanes past the tile's last page
    # start lie at or past c + COL_TILE; the caller masks them.
    first_page = (c + (1 << PAGE_SHIFT) - 1) >> PAGE_SHIFT
    return (first_page + tl.arange(0, PAGE_TILE)) << PAGE_SHIFT


@triton.jit(
    do_not_specialize=[
        "bs",
        "max_seqlen_k",
        "nsa_index_topk",
        "token_capacity",
        "next_n",
        "col_programs",
        "paged_mqa_ctx_lens_stride",
        "real_page_table_stride",
    ]
)
def dsa_metadata_kernel(
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
    paged_mqa_ctx_lens_ptr,
    paged_mqa_ctx_lens_stride,
    bs,
    max_seqlen_k,
    nsa_index_topk,
    token_capacity,
    next_n,
    col_programs,
    REQS: tl.constexpr,
    SCAN_BLOCK: tl.constexpr,
    COL_TILE: tl.constexpr,
    PAGE_SHIFT: tl.constexpr,
    PAGE_TILE: tl.constexpr,
    FULL_METADATA: tl.constexpr,
    DEVICE_MAX_SEQLEN: tl.constexpr,
    LIVE_PREFIX: tl.constexpr,
    ZERO_CU_HEADS: tl.constexpr,
    FORWARD_MODE: tl.constexpr,
    FLOOR: tl.constexpr,
    KPOOL_SHIFT: tl.constexpr,
    HAS_PAGE_TABLE_1: tl.constexpr,
    HAS_CTX_LENS_2D: tl.constexpr,
    ONE_REDUCTION: tl.constexpr,
):
    # Column programs vary fastest: the programs resident at once copy neighbouring tiles of one
    # request's row, as a plain copy walks memory, rather than the same tile of rows a stride apart,
    # which lands every store on the same DRAM channels.
    first_req = (tl.program_id(0) // col_programs) * REQS
    col_slice = tl.program_id(0) % col_programs
    topk = nsa_index_topk.to(tl.int64)
    reqs = first_req + tl.arange(0, REQS)
    req_mask = reqs < bs
    kv, qo = _request_lengths(seq_lens_ptr, extend_seq_lens_ptr, reqs, req_mask, next_n, FORWARD_MODE)
    # A request with no rows to write reads nothing either.
    has_rows = req_mask & (qo > 0)
    col_end = _column_ends(kv, has_rows, max_seqlen_k, LIVE_PREFIX)
    # Column tiles are dealt round-robin to the column programs, so the work of each program follows
    # max_seqlen_k, whatever the grid was sized for: in graph-resident mode that is the capacity, and
    # a program whose first tile is already past max_seqlen_k has nothing to copy.
    first_col = col_slice * COL_TILE
    col_stride = col_programs * COL_TILE
    if FULL_METADATA:
        pool_rows = tl.load(req_pool_indices_ptr + reqs, mask=req_mask, other=0).to(tl.int64)
        src_rows = req_to_token_ptr + pool_rows * req_to_token_stride
        # In graph-resident mode max_seqlen_k is still the buffers' column capacity here, which no
        # row of req_to_token is narrower than: the first tile is read up to it, so that its load
        # need not wait for max(seq_lens), and its stores are masked by that max. A live prefix ends
        # at the request's own kv length, which no max can cut short.
        if HAS_PAGE_TABLE_1:
            slots = _load_columns(src_rows, first_col + tl.arange(0, COL_TILE), col_end)
        if PAGE_SHIFT > 0:
            page_slots = _load_columns(src_rows, _page_starts(first_col, COL_TILE, PAGE_SHIFT, PAGE_TILE), col_end)
    if DEVICE_MAX_SEQLEN:
        # Graph-resident: max(seq_lens) over the whole batch becomes max_seqlen_k, where the host
        # passed only the buffers' column capacity. A program needs the max only as far as the
        # columns it owns: once some kv length reaches the end of its last tile, every mask and
        # loop bound it evaluates is the same as under the true max, so the scan stops there. It
        # starts from the program's own requests, whose tiles then often need no scan at all,
        # and a block that holds the whole batch has the max already.
        longest = tl.max(kv, axis=0)
        last_tile = first_col + (max_seqlen_k - 1 - first_col) // col_stride * col_stride
        needed = tl.where(first_col < max_seqlen_k, tl.minimum(last_tile + COL_TILE, max_seqlen_k), 0)
        start = tl.where((first_req == 0) & (bs <= REQS), bs, 0)
        while (start < bs) & (longest < needed):
            offs = start + tl.arange(0, SCAN_BLOCK)
            scan_kv, _ = _request_lengths(seq_lens_ptr, extend_seq_lens_ptr, offs, offs < bs, next_n, FORWARD_MODE)
            longest = tl.maximum(longest, tl.max(scan_kv, axis=0))
            start += SCAN_BLOCK
        max_seqlen_k = tl.minimum(longest, max_seqlen_k)
        col_end = _column_ends(kv, has_rows, max_seqlen_k, LIVE_PREFIX)
    # The block's last live column: a column program whose first tile starts past it has no page
    # rows to copy, and needs no token offsets either.
    block_end = tl.max(col_end, axis=0)

    # Prefix sums over every request before this program's block, taken while the tile is in flight.
    # Decode and target-verify give every request the same number of tokens, so where a block's
    # tokens start needs no scan, and only a request block's first column program scans the kv sums.
    tokens_before = tl.zeros((), dtype=tl.int64)
    kv_before = tl.zeros((), dtype=tl.int64)
    clipped_before = tl.zeros((), dtype=tl.int64)
    scan_end = first_req
    if FORWARD_MODE == DECODE:
        tokens_before += first_req
    if FORWARD_MODE == TARGET_VERIFY:
        tokens_before += first_req.to(tl.int64) * next_n
    if FORWARD_MODE != DRAFT_EXTEND:
        scan_end = tl.where(col_slice == 0, first_req, 0)
    else:
        scan_end = tl.where((col_slice == 0) | (first_col < block_end), first_req, 0)
    for start in range(0, scan_end, SCAN_BLOCK):
        offs = start + tl.arange(0, SCAN_BLOCK)
        scan_kv, scan_qo = _request_lengths(seq_lens_ptr, extend_seq_lens_ptr, offs, offs < first_req, next_n, FORWARD_MODE)
        if col_slice == 0:
            # One reduction of three sums: a block's reduction waits on a barrier, and this one is
            # between the tile's arrival and its stores.
            tokens, kv_sum, clipped_sum = _three_sums(
                scan_qo,
                scan_kv.to(tl.int32).to(tl.int64),
                _clipped_prefix(scan_kv, topk, FLOOR, KPOOL_SHIFT) - _clipped_prefix(scan_kv - scan_qo, topk, FLOOR, KPOOL_SHIFT),
                ONE_REDUCTION,
            )
            kv_before += kv_sum
            clipped_before += clipped_sum
        else:
            # Only a request's first column program stores the per-request and per-token lengths;
            # the others need only where its tokens start in the packed token axis.
            tokens = tl.sum(scan_qo, axis=0)
        if FORWARD_MODE == DRAFT_EXTEND:
            tokens_before += tokens

    token_start = tokens_before + tl.cumsum(qo, axis=0) - qo
    longest_extend = tl.max(qo, axis=0)
    if col_slice == 0:
        if FULL_METADATA:
            kv32 = kv.to(tl.int32)
            tl.store(cache_seqlens_ptr + reqs, kv32, mask=req_mask)
            cu_kv = kv_before + tl.cumsum(kv32.to(tl.int64), axis=0)
            tl.store(cu_seqlens_k_ptr + 1 + reqs, cu_kv.to(tl.int32), mask=req_mask)
            if ZERO_CU_HEADS:
                # SGLang's own kernel stores 0 there, and so does the drop-in under its name.
                if first_req == 0:
                    tl.store(cu_seqlens_k_ptr, tl.full((), 0, tl.int32))
                    tl.store(nsa_cu_seqlens_k_ptr, tl.full((), 0, tl.int32))
        first_prefix = _clipped_prefix(kv - qo, topk, FLOOR, KPOOL_SHIFT)
        clipped = _clipped_prefix(kv, topk, FLOOR, KPOOL_SHIFT) - first_prefix
        cu_base = clipped_before + tl.cumsum(clipped, axis=0) - clipped - first_prefix
        for step in range(0, longest_extend):
            token = token_start + step
            token_mask = req_mask & (step < qo) & (token < token_capacity)
            _store_token_lengths(
                seqlens_expanded_ptr, nsa_cache_seqlens_ptr, nsa_cu_seqlens_k_ptr, token, token_mask,
                kv - qo + 1 + step, topk, cu_base, FULL_METADATA, FORWARD_MODE, FLOOR, KPOOL_SHIFT,
            )
            if HAS_CTX_LENS_2D:
                # Target-verify's 2-D schedule lengths: the request's kv length at each draft position.
                tl.store(paged_mqa_ctx_lens_ptr + reqs * paged_mqa_ctx_lens_stride + step, kv.to(tl.int32), mask=req_mask & (step < qo))

    if FULL_METADATA:
        for c in range(first_col, block_end, col_stride):
            # The next tile's load is issued before this one's stores, so a program with several
            # tiles always has one in flight.
            cols = c + tl.arange(0, COL_TILE)
            if HAS_PAGE_TABLE_1:
                next_slots = _load_columns(src_rows, cols + col_stride, col_end)
            if PAGE_SHIFT > 0:
                page_cols = _page_starts(c, COL_TILE, PAGE_SHIFT, PAGE_TILE)
                page_mask = (page_cols < c + COL_TILE)[None, :] & (page_cols[None, :] < col_end[:, None])
                next_page_slots = _load_columns(src_rows, _page_starts(c + col_stride, COL_TILE, PAGE_SHIFT, PAGE_TILE), col_end)
            for step in range(0, longest_extend):
                # A request block stores one step at a time as [REQS, columns], streaming: no row
                # written here is read again by this launch, and it should not evict the rows still to be read.
                token = token_start + step
                row_mask = req_mask & (step < qo) & (token < token_capacity)
                if HAS_PAGE_TABLE_1:
                    tl.store(
                        page_table_1_ptr + (token * page_table_1_stride)[:, None] + cols[None, :],
                        slots,
                        mask=row_mask[:, None] & (cols[None, :] < col_end[:, None]),
                        cache_modifier=".cs",
                    )
                if PAGE_SHIFT > 0:
                    # An arithmetic shift is floor division by the page size, negatives included.
                    tl.store(
                        real_page_table_ptr + (token * real_page_table_stride)[:, None] + (page_cols >> PAGE_SHIFT)[None, :],
                        page_slots >> PAGE_SHIFT,
                        mask=row_mask[:, None] & page_mask,
                        cache_modifier=".cs",
                    )
            if HAS_PAGE_TABLE_1:
                slots = next_slots
            if PAGE_SHIFT > 0:
                page_slots = next_page_slots


@dataclass(frozen=True)
class Tiles:
    """A compiled variant's tile shape: requests per program, the prefix-sum block, the columns per
    tile, warps per program, and how many programs the grid aims for."""

    reqs: int
    scan_block: int
    col_tile: int
    num_warps: int
    target: int


@dataclass(frozen=True)
class LaunchGeometry:
    tiles: Tiles
    req_programs: int
    col_programs: int

    @property
    def grid(self) -> tuple[int]:
        return (self.req_programs * self.col_programs,)


# Tiles per device kind, bucket and forward mode, each the fastest of those timed on an H200 over
# that bucket's cells (benchmarks/README.md). A small call that copies at most LATENCY_CELLS
# page-table cells (bs * max_seqlen_k) is latency-bound: one-warp programs of 256 columns spread it
# over the most SMs. Past that, one request per program and four-warp programs of wide tiles keep
# bytes in flight, the prefix sums a vector load of the earlier lengths at a time. Target-verify
# past MID_BATCH takes blocks of 32 requests: its tiles of one request were up to 1.5x slower
# there, at next_n 1 most. The interpreter pays per program and per reduction rather than per
# element, so it runs few, wide programs, several requests each (which also puts the in-block
# prefix sums under the CPU tier's checks), and scans in short blocks so that the CPU tier walks
# the scan's loop.
SMALL_BATCH = 64
MID_BATCH = 512
LATENCY_CELLS = 1 << 19
_GPU_TILES = {
    "latency": {mode: Tiles(1, 64, 256, 1, 8192) for mode in _FORWARD_MODES},
    "small": {
        "draft-extend": Tiles(1, 64, 512, 4, 16384),
        "decode": Tiles(1, 64, 1024, 4, 16384),
        "target-verify": Tiles(1, 64, 1024, 4, 16384),
    },
    "mid": {
        "draft-extend": Tiles(1, 1024, 1024, 4, 8192),
        "decode": Tiles(1, 1024, 1024, 4, 8192),
        "target-verify": Tiles(1, 1024, 2048, 8, 8192),
    },
    "large": {
        "draft-extend": Tiles(1, 1024, 1024, 4, 8192),
        "decode": Tiles(1, 1024, 1024, 4, 8192),
        "target-verify": Tiles(32, 1024, 128, 4, 2048),
    },
}
_INTERPRETER_TILES = {"small": Tiles(8, 64, 1024, 1, 8), "large": Tiles(256, 64, 1024, 1, 4)}


def bucket_of(bs: int, max_seqlen_k: int, device: torch.device) -> str:
    """Which tiles a call takes: on a GPU latency, small, mid or large; in the interpreter small or large."""
    if device.type != "cuda":
        return "small" if bs <= SMALL_BATCH else "large"
    if bs <= SMALL_BATCH:
        return "latency" if bs * max_seqlen_k <= LATENCY_CELLS else "small"
    return "mid" if bs <= MID_BATCH else "large"


def launch_geometry(bs: int, max_seqlen_k: int, device: torch.device, mode_name: str = DRAFT_EXTEND_MODE.name) -> LaunchGeometry:
    """The grid and tile sizes for a call. Tile sizes are fixed per device kind, bucket and forward
    mode, so batch size and context length change only the grid within a bucket: at most four tile
    shapes per mode, each a compiled variant (`properties.compiles` counts them all). Column
    programs never outnumber what the target leaves per request block, however wide max_seqlen_k
    (or, in graph-resident mode, the buffers) may be."""
    bucket = bucket_of(bs, max_seqlen_k, device)
    tiles = _GPU_TILES[bucket][mode_name] if device.type == "cuda" else _INTERPRETER_TILES[bucket]
    req_programs = max(1, -(-bs // tiles.reqs))
    col_tiles = max(1, -(-max_seqlen_k // tiles.col_tile))
    col_programs = max(1, min(col_tiles, tiles.target // req_programs))
    return LaunchGeometry(tiles, req_programs, col_programs)


class LaunchPlan:
    """Everything one launch needs, computed once per call signature.

    Host checks depend only on what the signature holds (each tensor's address, dtype, shape,
    strides and device; the host ints), and so do the kernel's arguments. So on a GPU, a call whose
    signature was seen before skips both and goes straight to the compiled kernel: the hot path costs
    a signature and a launch. A plan's first launch compiles or finds the kernel; the plan then keeps
    a direct launch of it (kernel._triton_launch) and drops its arguments, so that a cached plan keeps
    no tensor alive.
    """

    def __init__(self, grid: tuple[int], num_warps: int, args: tuple, token_capacity: int, column_limit: int):
        self.grid = grid
        self.num_warps = num_warps
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
        dsa_metadata_kernel[plan.grid](*plan.args, num_warps=plan.num_warps)
        return
    plan.direct = _triton_launch.first_launch(dsa_metadata_kernel, plan.grid, plan.args, num_warps=plan.num_warps)
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
    mode: ForwardMode = DRAFT_EXTEND_MODE,
    next_n: int = 1,
    padding_floor: int = DEFAULT_PADDING_FLOOR,
    index_kpool: int = 1,
    live_prefix: bool = True,
) -> LaunchPlan:
    geometry = launch_geometry(shape.bs, max_seqlen_k, seq_lens.device, mode.name)
    tiles = geometry.tiles
    # The page size is a compile-time constant, as it is for one deployment: the real page table is
    # then one lane per page, not a masked lane per column.
    page_shift = page_size.bit_length() - 1
    cache_seqlens, cu_seqlens_k, page_table_1, real_page_table, expanded, clipped, nsa_cu_seqlens_k, ctx_lens = outputs
    # A buffer the mode (or the caller) does not have is compiled out; any int32 tensor stands in for
    # its pointer.
    has_page_table_1 = page_table_1 is not None
    args = (
        seq_lens,
        seq_lens if extend_seq_lens is None else extend_seq_lens,
        req_pool_indices,
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
        nsa_index_topk,
        shape.token_capacity,
        next_n,
        geometry.col_programs,
        tiles.reqs,
        tiles.scan_block,
        tiles.col_tile,
        page_shift,
        max(1, tiles.col_tile >> page_shift),
        full_metadata,
        device_max_seqlen and not live_prefix,
        live_prefix,
        zero_cu_heads,
        _FORWARD_MODES[mode.name],
        padding_floor if mode.pads_below_one else 0,
        index_kpool.bit_length() - 1,
        has_page_table_1,
        ctx_lens is not None,
        seq_lens.device.type == "cuda",
    )
    return LaunchPlan(geometry.grid, tiles.num_warps, args, shape.token_capacity, max_seqlen_k)


def fill_signature(
    mode: ForwardMode, inputs: tuple, buffers, *, nsa_index_topk, page_size, max_seqlen_k, next_n, zero_cu_heads,
    padding_floor=DEFAULT_PADDING_FLOOR, index_kpool=1, live_prefix=True,
) -> tuple[tuple[torch.Tensor | None, ...], tuple | None]:
    """The output buffers in the kernel's order (None where the mode or the caller has none), and the
    call's plan-cache key (None where no plan may be cached). A function of its own so that
    benchmarks.host_breakdown times this very key."""
    if not isinstance(buffers, MetadataBuffers):
        raise TypeError(f"buffers must be a MetadataBuffers, got {type(buffers).__name__}")
    # Decode has no expanded lengths, and only target-verify has 2-D schedule lengths (where given).
    expanded = None if mode is DECODE_MODE else buffers.nsa_seqlens_expanded
    ctx_lens = buffers.paged_mqa_ctx_lens_2d if mode is TARGET_VERIFY_MODE else None
    common = (buffers.cache_seqlens_int32, buffers.cu_seqlens_k, buffers.page_table_1, buffers.real_page_table)
    sparse = (buffers.nsa_cache_seqlens_int32, buffers.nsa_cu_seqlens_k)
    outputs = (*common, expanded, *sparse, ctx_lens)
    tensors = inputs + tuple(t for t in (*common, *sparse, expanded, ctx_lens) if t is not None)
    signature = _signature(
        tensors,
        (
            mode.name, nsa_index_topk, page_size, max_seqlen_k, next_n, buffers.real_page_table is buffers.page_table_1,
            buffers.page_table_1 is None, zero_cu_heads, padding_floor, index_kpool, live_prefix,
        ),
    )
    return outputs, signature


def _fill(
    mode: ForwardMode,
    inputs: tuple,
    buffers: MetadataBuffers,
    *,
    nsa_index_topk: int,
    page_size: int,
    max_seqlen_k: int | None,
    next_n: int,
    validate: bool | None,
    zero_cu_heads: bool,
    padding_floor: int = DEFAULT_PADDING_FLOOR,
    index_kpool: int = 1,
    live_prefix: bool = True,
) -> None:
    """One forward mode's fill: `inputs` are the mode's tensors (reference.modes), in its order."""
    outputs, signature = fill_signature(
        mode, inputs, buffers, nsa_index_topk=nsa_index_topk, page_size=page_size, max_seqlen_k=max_seqlen_k,
        next_n=next_n, zero_cu_heads=zero_cu_heads, padding_floor=padding_floor, index_kpool=index_kpool,
        live_prefix=live_prefix,
    )
    plan = _PLANS.get(signature) if signature is not None else None
    if plan is None:
        named = dict(zip(mode.inputs, inputs))
        checks = {
            "nsa_index_topk": nsa_index_topk, "page_size": page_size, "next_n": next_n,
            "padding_floor": padding_floor, "index_kpool": index_kpool, "live_prefix": live_prefix,
        }
        device_max_seqlen = max_seqlen_k is None
        if device_max_seqlen:
            # Checked once with no columns to know the arguments are what they claim, then for
            # every column the kernel may be asked to fill.
            check_mode_call(mode, inputs, buffers, max_seqlen_k=0, **checks)
            max_seqlen_k = min(named["req_to_token"].shape[1], column_capacity(buffers, page_size))
        shape = check_mode_call(mode, inputs, buffers, max_seqlen_k=max_seqlen_k, **checks)
        plan = _build_plan(
            shape,
            *(named.get(name) for name in DRAFT_EXTEND_MODE.inputs),
            outputs,
            nsa_index_topk=nsa_index_topk,
            page_size=page_size,
            max_seqlen_k=max_seqlen_k,
            full_metadata=True,
            device_max_seqlen=device_max_seqlen,
            zero_cu_heads=zero_cu_heads,
            mode=mode,
            next_n=next_n,
            padding_floor=padding_floor,
            index_kpool=index_kpool,
            live_prefix=live_prefix,
        )
    if validation_requested(validate):
        check_mode_values(
            mode, inputs, token_capacity=plan.token_capacity, max_seqlen_k=plan.column_limit,
            nsa_index_topk=nsa_index_topk, next_n=next_n, padding_floor=padding_floor, index_kpool=index_kpool,
        )
    _launch(plan, signature)


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
) -> None:
    """Fill all seven buffers of `buffers` for one draft-extend step: one launch, no host sync.

    max_seqlen_k=None is the graph-resident mode: the kernel takes max(seq_lens) on the device, and
    the grid is sized once from the columns the buffers (and req_to_token) hold, so a captured call
    needs nothing from the host at replay, not even the longest sequence. zero_cu_heads=True also
    stores 0 into element 0 of both cu buffers, as SGLang's kernel does (`kernel.sglang`).
    padding_floor is the least causal length of a graph-bucket padding request (0 under the
    sglang-dsa engine profile, 1 under sglang-dsv4 and full-width); index_kpool the KPool size k of
    the sparse lengths; buffers.page_table_1 may be None where page_size > 1. live_prefix=True (the
    sglang-dsa and sglang-dsv4 profiles) writes each token row's page rows only below its request's
    kv length, leaving the columns past it as they were; False writes every column below max_seqlen_k.
    """
    _fill(
        DRAFT_EXTEND_MODE, (seq_lens, extend_seq_lens, req_pool_indices, req_to_token), buffers,
        nsa_index_topk=nsa_index_topk, page_size=page_size, max_seqlen_k=max_seqlen_k, next_n=1,
        validate=validate, zero_cu_heads=zero_cu_heads, padding_floor=padding_floor, index_kpool=index_kpool,
        live_prefix=live_prefix,
    )


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
    """Fill the decode buffers (no nsa_seqlens_expanded: a decode token's length is its request's
    cache_seqlens) for one step: one launch, no host sync; max_seqlen_k=None, index_kpool,
    live_prefix and a page_table_1 of None as for draft-extend."""
    _fill(
        DECODE_MODE, (seq_lens, req_pool_indices, req_to_token), buffers,
        nsa_index_topk=nsa_index_topk, page_size=page_size, max_seqlen_k=max_seqlen_k, next_n=1,
        validate=validate, zero_cu_heads=zero_cu_heads, index_kpool=index_kpool, live_prefix=live_prefix,
    )


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
    """Fill the target-verify buffers for one step of next_n draft tokens per request, and
    `buffers.paged_mqa_ctx_lens_2d` where given: one launch, no host sync; max_seqlen_k=None as for
    draft-extend (the kernel then takes max(seq_lens) + next_n), index_kpool, live_prefix and a
    page_table_1 of None too."""
    _fill(
        TARGET_VERIFY_MODE, (seq_lens, req_pool_indices, req_to_token), buffers,
        nsa_index_topk=nsa_index_topk, page_size=page_size, max_seqlen_k=max_seqlen_k, next_n=next_n,
        validate=validate, zero_cu_heads=zero_cu_heads, index_kpool=index_kpool, live_prefix=live_prefix,
    )


for _fill_of_mode in (fill_draft_extend_metadata, fill_decode_metadata, fill_target_verify_metadata):
    _fill_of_mode.supports_graph_resident = True
    _fill_of_mode.supports_page_table_1_none = True


def _expand(
    extend_seq_lens, seq_lens, nsa_index_topk, out_seqlens_expanded, out_nsa_cache_seqlens, check, padding_floor, index_kpool
) -> None:
    """Plan (or find the plan for) an expand-only launch, run `check(plan)`, then launch."""
    signature = _signature(
        (extend_seq_lens, seq_lens, out_seqlens_expanded, out_nsa_cache_seqlens), (nsa_index_topk, padding_floor, index_kpool)
    )
    plan = _PLANS.get(signature) if signature is not None else None
    if plan is None:
        shape = check_expand_call(
            extend_seq_lens, seq_lens, nsa_index_topk, out_seqlens_expanded, out_nsa_cache_seqlens,
            padding_floor=padding_floor, index_kpool=index_kpool,
        )
        # The page-table and per-request outputs are compiled out; any int32 tensor stands in for them.
        unused = out_seqlens_expanded
        table = unused[None, :]
        outputs = (unused, unused, table, table, out_seqlens_expanded, out_nsa_cache_seqlens, unused, None)
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
            padding_floor=padding_floor,
            index_kpool=index_kpool,
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
    padding_floor: int = DEFAULT_PADDING_FLOOR,
    index_kpool: int = 1,
) -> None:
    """Write the expanded and the clipped lengths into preallocated int32 vectors; no host sync."""

    def check(plan: LaunchPlan) -> None:
        if validation_requested(validate):
            check_values(
                seq_lens, extend_seq_lens, token_capacity=plan.token_capacity, nsa_index_topk=nsa_index_topk,
                padding_floor=padding_floor, index_kpool=index_kpool,
            )

    _expand(
        extend_seq_lens, seq_lens, nsa_index_topk, out_seqlens_expanded, out_nsa_cache_seqlens, check, padding_floor, index_kpool
    )


def expand_seqlens(
    extend_seq_lens: torch.Tensor,
    seq_lens: torch.Tensor,
    nsa_index_topk: int,
    *,
    total_tokens: int | None = None,
    validate: bool | None = None,
    padding_floor: int = DEFAULT_PADDING_FLOOR,
    index_kpool: int = 1,
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
                seq_lens, extend_seq_lens, token_capacity=total_tokens, nsa_index_topk=nsa_index_topk, total_tokens=total_tokens,
                padding_floor=padding_floor, index_kpool=index_kpool,
            )

    _expand(extend_seq_lens, seq_lens, nsa_index_topk, seqlens_expanded, nsa_cache_seqlens, check, padding_floor, index_kpool)
    return seqlens_expanded, nsa_cache_seqlens
