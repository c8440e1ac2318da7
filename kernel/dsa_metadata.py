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
size of a bucket (kernel.geometry), and next_n is a runtime value too; only the forward mode (and a
draft-extend's static width), the input dtypes, the page-size case and which outputs are wanted
select a variant.

Under a live-prefix engine profile (`live_prefix=True`, sglang-dsa's and sglang-dsv4's rule) each
token row's page rows end at its request's kv length: no program reads or writes a column past it,
so a serving batch of mixed lengths moves only the bytes a consumer reads, and graph-resident mode
needs no max(seq_lens) at all, since each request's own length bounds its columns.
"""

from __future__ import annotations

import triton
import triton.language as tl

from reference.modes import DECODE as DECODE_MODE
from reference.modes import DRAFT_EXTEND as DRAFT_EXTEND_MODE
from reference.modes import FORWARD_MODES
from reference.modes import TARGET_VERIFY as TARGET_VERIFY_MODE
from reference.modes import ForwardMode


def kernel_id(mode: ForwardMode) -> int:
    """The forward mode as the kernel's compile-time choice: its place among reference.modes.FORWARD_MODES."""
    return list(FORWARD_MODES).index(mode.name)


# Globals a @triton.jit body reads must be constexpr.
DRAFT_EXTEND, DECODE, TARGET_VERIFY = (tl.constexpr(kernel_id(mode)) for mode in (DRAFT_EXTEND_MODE, DECODE_MODE, TARGET_VERIFY_MODE))
# The columns a tile below max_seqlen_k masks as one (_column_groups): 16 bytes of int32, one vector
# access.
COLUMN_GROUP = tl.constexpr(4)


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
def _clipped_sum(kv, qo, topk, FLOOR: tl.constexpr, KPOOL_SHIFT: tl.constexpr, FORWARD_MODE: tl.constexpr):
    # The sum of a request's tokens' sparse lengths, F(kv) - F(kv - qo). A decode request has one
    # token, and no floor: the sum is that token's sparse length, sparse(kv), and 0 for a request
    # masked off (kv 0). The prefix sums over every earlier request, which a large batch's programs
    # take by the thousand, then cost a min per request rather than two closed forms in int64.
    if FORWARD_MODE == DECODE:
        return _sparse_length(kv, topk, KPOOL_SHIFT)
    return _clipped_prefix(kv, topk, FLOOR, KPOOL_SHIFT) - _clipped_prefix(kv - qo, topk, FLOOR, KPOOL_SHIFT)


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
def _column_groups(cols, col_end):
    # The mask of columns `cols` of each request's row below its col_end rounded up to a group of
    # COLUMN_GROUP columns. A mask that changes along the columns at every column Triton cannot
    # vectorize: with several columns a thread, each access becomes that many scalar ones, every one
    # spanning four times the sectors it uses (benchmarks/README.md, Nsight Compute against 0.5.23);
    # one constant over aligned groups it loads and stores 16 bytes at a time. It is taken only for
    # a tile below max_seqlen_k (_grouped), where the up to three columns past a row's end are
    # tail cells of a live-prefix profile, and get what the full-width rule writes there: their
    # req_to_token slot. Without a live prefix every row ends at max_seqlen_k, and such a tile is
    # whole either way. On an H100 this took up to 14% off target-verify and decode at bs 512 to
    # 4,096, and changed the latency-bound cells by at most 4% (benchmarks/README.md).
    return (cols // COLUMN_GROUP)[None, :] < ((col_end + COLUMN_GROUP - 1) // COLUMN_GROUP)[:, None]


@triton.jit
def _grouped(c, group_end, COL_TILE: tl.constexpr):
    # Whether the tile [c, c + COL_TILE) lies below group_end, a bound of max_seqlen_k from below
    # (_group_end), and takes _column_groups' mask. Loads and stores branch on it, not their masks:
    # a mask chosen by a branch is, to Triton, one that may change at every column.
    return c + COL_TILE <= group_end


@triton.jit
def _group_end(host_max_seqlen_k, block_end):
    # The columns below which a grouped mask may round a row's end up: max_seqlen_k where the host
    # gave it (host_max_seqlen_k, 0 in graph-resident mode), else block_end, the block's last live
    # column, which no row's end rounds past unrounded. In graph-resident mode under a live prefix
    # the kernel never learns max(seq_lens), and the bound the host gave is only the buffers' capacity.
    return tl.maximum(host_max_seqlen_k, block_end)


@triton.jit
def _load_tile(src_rows, cols, col_end, grouped):
    # _load_columns, grouped (_column_groups) where the tile is.
    if grouped:
        tile = tl.load(src_rows[:, None] + cols[None, :], mask=_column_groups(cols, col_end))
    else:
        tile = _load_columns(src_rows, cols, col_end)
    return tile


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
        "host_max_seqlen_k",
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
    host_max_seqlen_k,
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
    STATIC_WIDTH: tl.constexpr,
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
    if FULL_METADATA:
        # The pool rows are loaded before the lengths: neither depends on the other, so a small
        # batch waits on the two loads at once, not one after the other.
        pool_rows = tl.load(req_pool_indices_ptr + reqs, mask=req_mask, other=0).to(tl.int64)
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
        src_rows = req_to_token_ptr + pool_rows * req_to_token_stride
        # In graph-resident mode max_seqlen_k is still the buffers' column capacity here, which no
        # row of req_to_token is narrower than: the first tile is read up to it, so that its load
        # need not wait for max(seq_lens), and its stores are masked by that max. A live prefix ends
        # at the request's own kv length, which no max can cut short.
        if HAS_PAGE_TABLE_1:
            first_grouped = _grouped(first_col, _group_end(host_max_seqlen_k, tl.max(col_end, axis=0)), COL_TILE)
            slots = _load_tile(src_rows, first_col + tl.arange(0, COL_TILE), col_end, first_grouped)
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
    group_end = _group_end(host_max_seqlen_k, block_end)

    # Prefix sums over every request before this program's block, taken while the tile is in flight.
    # Decode and target-verify give every request the same number of tokens, and so does a
    # draft-extend of static width (STATIC_WIDTH, the caller's promise): there, where a block's
    # tokens start needs no scan, and only a request block's first column program scans the kv sums.
    tokens_before = tl.zeros((), dtype=tl.int64)
    kv_before = tl.zeros((), dtype=tl.int64)
    clipped_before = tl.zeros((), dtype=tl.int64)
    scan_end = first_req
    if FORWARD_MODE == DECODE:
        tokens_before += first_req
    if FORWARD_MODE == TARGET_VERIFY:
        tokens_before += first_req.to(tl.int64) * next_n
    if STATIC_WIDTH:
        # The width is any request's extend length; the block's first request is always a real one.
        tokens_before += first_req.to(tl.int64) * tl.max(qo, axis=0)
    if (FORWARD_MODE != DRAFT_EXTEND) or STATIC_WIDTH:
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
                _clipped_sum(scan_kv, scan_qo, topk, FLOOR, KPOOL_SHIFT, FORWARD_MODE),
                ONE_REDUCTION,
            )
            kv_before += kv_sum
            clipped_before += clipped_sum
        else:
            # Only a request's first column program stores the per-request and per-token lengths;
            # the others need only where its tokens start in the packed token axis.
            tokens = tl.sum(scan_qo, axis=0)
        if FORWARD_MODE == DRAFT_EXTEND:
            if not STATIC_WIDTH:
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
                grouped = _grouped(c, group_end, COL_TILE)
                next_grouped = _grouped(c + col_stride, group_end, COL_TILE)
                next_slots = _load_tile(src_rows, cols + col_stride, col_end, next_grouped)
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
                    rows_at = page_table_1_ptr + (token * page_table_1_stride)[:, None] + cols[None, :]
                    if grouped:
                        tl.store(rows_at, slots, mask=row_mask[:, None] & _column_groups(cols, col_end), cache_modifier=".cs")
                    else:
                        tl.store(rows_at, slots, mask=row_mask[:, None] & (cols[None, :] < col_end[:, None]), cache_modifier=".cs")
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
