"""The Triton mutants: the shipped launch path (the jit body kernel/dsa_metadata.py, the geometry
and the launcher) with one defect patched in.

A mutant is written as text edits of the shipped sources, as Triton's own tests build kernel
variants from one template, so that every mutant keeps pace with the kernel we ship: each edit is
made in the one file (`SHIPPED`) its snippet occurs in, and a snippet that no longer occurs exactly
once among them fails loudly, naming the mutant, at load time and in tests/test_mutants.py. Each
patched file is written out (Triton's @jit reads its source back through inspect) and imported as a
module of its own; the mutant's fills are the public ones (kernel.call) over a launcher of those
copies, with graph-resident mode and a plan cache of its own.

`guards` only keep a defect's reads and writes inside their allocations, where it alone would reach
past them (the interpreter then reads or corrupts host memory, a GPU faults); `_bound` hands them
sizes from the launcher as runtime ints. A patch with `shows_in` is visible only to a GPU family of
checks (memcheck, the count of compilations, the tables past 2^31 cells): its values are the
shipped kernel's on every case the CPU tier can afford, and the CPU tier does not hunt it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from kernel.call import public_fills
from properties.harness import Contract
from reference.modes import FORWARD_MODES

Edit = tuple[str, str]


@dataclass(frozen=True)
class Patch:
    models: str
    snippet: str
    replacement: str
    also: tuple[Edit, ...] = ()  # further edits of the same defect, where it spans two places
    guards: tuple[Edit, ...] = ()
    shows_in: str | None = None
    domain: str = "sglang"  # "strict" where the defect is one only under the strict domain's rules
    # The engine profile under which the mutant is hunted: "full-width" where the defect leaves only
    # columns past a row's kv length unwritten, which a live-prefix profile accepts.
    profile: str | None = None
    forward_modes: tuple[str, ...] = tuple(FORWARD_MODES)  # the modes whose code the defect is in

    def edits(self) -> tuple[Edit, ...]:
        return ((self.snippet, self.replacement), *self.also, *self.guards)


class StalePatch(RuntimeError):
    """A mutant's snippet does not occur exactly once in the shipped source any more."""


def _bound(param: str, value: str) -> tuple[Edit, ...]:
    """Edits that hand the launcher's `value` to the kernel as the runtime int `param`, kept out of
    specialisation so that it costs no compilation of its own."""
    return (
        ('        "real_page_table_stride",\n    ]', f'        "real_page_table_stride",\n        "{param}",\n    ]'),
        ("    col_programs,\n    REQS: tl.constexpr,", f"    col_programs,\n    {param},\n    REQS: tl.constexpr,"),
        ("geometry.col_programs,\n            tiles.reqs,", f"geometry.col_programs,\n            {value},\n            tiles.reqs,"),
    )


_STEP_LOOPS = {
    "token lengths": ("        ", "token = token_start + step"),
    "page tables": ("            ", "# A request block"),
}


def _step_loop(loop: str, bound: str) -> Edit:
    """The edit that runs one of the kernel's two step loops (`_STEP_LOOPS`) to `bound`, not to
    longest_extend; the loop's indent and next line tell the two apart."""
    indent, next_line = _STEP_LOOPS[loop]
    return (
        f"{indent}for step in range(0, longest_extend):\n{indent}    {next_line}",
        f"{indent}for step in range(0, {bound}):\n{indent}    {next_line}",
    )


PATCHES: dict[str, Patch] = {
    "pool_index_ignored": Patch(
        "page rows read from req_to_token row b instead of row req_pool_indices[b]",
        "pool_rows = tl.load(req_pool_indices_ptr + reqs, mask=req_mask, other=0).to(tl.int64)",
        "pool_rows = reqs.to(tl.int64)",
    ),
    "pool_rows_block_offset_missing": Patch(
        "req_pool_indices loaded at arange(REQS), not first_req + arange(REQS): later request blocks take block 0's rows",
        "pool_rows = tl.load(req_pool_indices_ptr + reqs, mask=req_mask, other=0).to(tl.int64)",
        "pool_rows = tl.load(req_pool_indices_ptr + tl.arange(0, REQS), mask=req_mask, other=0).to(tl.int64)",
    ),
    "pool_indices_int64_as_int32": Patch(
        "req_pool_indices read through an int32 pointer: int64 indices read as (low, high) word pairs",
        "):\n    # Column programs vary fastest",
        "):\n    req_pool_indices_ptr = req_pool_indices_ptr.to(tl.pointer_type(tl.int32))\n    # Column programs vary fastest",
    ),
    "seq_lens_int64_as_int32": Patch(
        "seq_lens read through an int32 pointer: int64 lengths read as (low, high) word pairs",
        "):\n    # Column programs vary fastest",
        "):\n    seq_lens_ptr = seq_lens_ptr.to(tl.pointer_type(tl.int32))\n    # Column programs vary fastest",
    ),
    "req_to_token_stride_assumed": Patch(
        "req_to_token's row stride taken as max_seqlen_k, as if the pool were exactly as wide as the call",
        "src_rows = req_to_token_ptr + pool_rows * req_to_token_stride",
        "src_rows = req_to_token_ptr + pool_rows * max_seqlen_k",
    ),
    "pool_row_offset_int32": Patch(
        "the gather offset pool_row * req_to_token_stride formed in int32: it wraps past 2^31 cells of req_to_token",
        "src_rows = req_to_token_ptr + pool_rows * req_to_token_stride",
        "src_rows = req_to_token_ptr + pool_rows.to(tl.int32) * req_to_token_stride",
        shows_in="past_int32",
    ),
    "token_row_offset_int32": Patch(
        "the store offset token * page_table_1_stride formed in int32: it wraps past 2^31 cells of page_table_1",
        "page_table_1_ptr + (token * page_table_1_stride)[:, None]",
        "page_table_1_ptr + (token.to(tl.int32) * page_table_1_stride)[:, None]",
        shows_in="past_int32",
    ),
    "page_table_1_stride_assumed": Patch(
        "page_table_1's row stride taken as max_seqlen_k, as if the padded graph buffer were contiguous",
        "page_table_1_ptr + (token * page_table_1_stride)[:, None]",
        "page_table_1_ptr + (token * max_seqlen_k)[:, None]",
    ),
    "real_page_table_stride_assumed": Patch(
        "real_page_table's row stride taken as its page count, as if the padded graph buffer were contiguous",
        "real_page_table_ptr + (token * real_page_table_stride)[:, None]",
        "real_page_table_ptr + (token * ((max_seqlen_k + (1 << PAGE_SHIFT) - 1) >> PAGE_SHIFT))[:, None]",
    ),
    "column_one_past_end": Patch(
        "column store mask `cols <= col_end`: page_table_1 (and the real table) get one column past each row's",
        "mask=row_mask[:, None] & (cols[None, :] < col_end[:, None]),",
        "mask=row_mask[:, None] & (cols[None, :] <= col_end[:, None]),",
        also=(("page_mask = (page_cols < c + COL_TILE)[None, :] & (page_cols[None, :] < col_end[:, None])",
               "page_mask = (page_cols < c + COL_TILE)[None, :] & (page_cols[None, :] <= col_end[:, None])"),),
        guards=(
            ("(cols[None, :] <= col_end[:, None])", "(cols[None, :] <= col_end[:, None]) & (cols < page_table_1_stride)[None, :]"),
            (
                "(page_cols[None, :] <= col_end[:, None])",
                "(page_cols[None, :] <= col_end[:, None]) & ((page_cols >> PAGE_SHIFT) < real_page_table_stride)[None, :]",
            ),
        ),
    ),
    "grouped_tile_by_its_first_column": Patch(
        "a column tile masked by groups of four columns once its first column lies below the rows' bound, not its last: the rows that end in its last group are written up to three columns past max_seqlen_k",
        "return c + COL_TILE <= group_end",
        "return c < group_end",
        guards=(
            ("mask=_column_groups(cols, col_end))", "mask=_column_groups(cols, col_end) & (cols < req_to_token_stride)[None, :])"),
            ("def _load_tile(src_rows, cols, col_end, grouped):", "def _load_tile(src_rows, cols, col_end, grouped, req_to_token_stride):"),
            ("col_end, first_grouped)", "col_end, first_grouped, req_to_token_stride)"),
            ("col_end, next_grouped)", "col_end, next_grouped, req_to_token_stride)"),
            (
                "mask=row_mask[:, None] & _column_groups(cols, col_end),",
                "mask=row_mask[:, None] & _column_groups(cols, col_end) & (cols < page_table_1_stride)[None, :],",
            ),
        ),
    ),
    "group_end_is_capacity_when_graph_resident": Patch(
        "the bound below which a row's end is rounded up to a group of four columns taken from the host's max_seqlen_k in graph-resident mode too, where it is only the buffers' capacity: the longest rows are written up to three columns past max(seq_lens)",
        "            0 if call.max_seqlen_k is None else max_seqlen_k,\n",
        "            max_seqlen_k,\n",
    ),
    "column_groups_rounded_down": Patch(
        "a row's end rounded down to a group of four columns where its tile is masked by groups: up to three live columns of each row go unwritten",
        "return (cols // COLUMN_GROUP)[None, :] < ((col_end + COLUMN_GROUP - 1) // COLUMN_GROUP)[:, None]",
        "return (cols // COLUMN_GROUP)[None, :] < (col_end // COLUMN_GROUP)[:, None]",
    ),
    "column_tile_frozen": Patch(
        "every column tile of a program stored at its first tile's columns: only its first tile is written right",
        "            cols = c + tl.arange(0, COL_TILE)\n",
        "            cols = first_col + tl.arange(0, COL_TILE)\n",
    ),
    "tile_prefetch_stale": Patch(
        "the prefetched tile never becomes the current one: every column tile of a program stores its first tile's slots",
        "                slots = next_slots\n",
        "                slots = slots\n",
        profile="full-width",
    ),
    "page_prefetch_stale": Patch(
        "the prefetched page slots never become the current ones: every column tile stores its first tile's real pages",
        "                page_slots = next_page_slots",
        "                page_slots = page_slots",
    ),
    "token_row_one_past_total": Patch(
        "step loops and masks one step too far (`step <= qo`): each request's row past its tokens is written (the last one's is row `total`, padding)",
        "row_mask = req_mask & (step < qo) & (token < token_capacity)",
        "row_mask = req_mask & (step <= qo) & (token < token_capacity)",
        also=(
            ("token_mask = req_mask & (step < qo) & (token < token_capacity)", "token_mask = req_mask & (step <= qo) & (token < token_capacity)"),
            _step_loop("page tables", "longest_extend + 1"),
            _step_loop("token lengths", "longest_extend + 1"),
        ),
    ),
    "last_step_dropped": Patch(
        "step loops that stop one short: each request's last token is never written",
        *_step_loop("page tables", "longest_extend - 1"),
        also=(_step_loop("token lengths", "longest_extend - 1"),),
    ),
    "token_start_inclusive": Patch(
        "a request's tokens start after its own extend length too (an inclusive in-block prefix sum)",
        "token_start = tokens_before + tl.cumsum(qo, axis=0) - qo",
        "token_start = tokens_before + tl.cumsum(qo, axis=0)",
    ),
    "single_request_block": Patch(
        "grid of one request block: only the first REQS requests and their tokens are written",
        "return (self.req_programs * self.col_programs,)",
        "return (self.col_programs,)",
    ),
    "grid_axes_swapped": Patch(
        "program id decoded the other way round: the request block from the low part, the column program from the high",
        "    first_req = (tl.program_id(0) // col_programs) * REQS\n    col_slice = tl.program_id(0) % col_programs\n",
        "    first_req = (tl.program_id(0) % col_programs) * REQS\n    col_slice = tl.program_id(0) // col_programs\n",
        guards=(("offs, offs < first_req, next_n, FORWARD_MODE)", "offs, (offs < first_req) & (offs < bs), next_n, FORWARD_MODE)"),),
    ),
    "kv_prefix_restarts_per_program": Patch(
        "cu_seqlens_k's prefix sum restarts at every request block: earlier blocks' seq_lens not added",
        "            kv_before += kv_sum\n",
        "",
    ),
    "nsa_prefix_restarts_per_program": Patch(
        "nsa_cu_seqlens_k's prefix sum restarts at every request block: earlier blocks' clipped lengths not added",
        "            clipped_before += clipped_sum\n",
        "",
    ),
    "length_sums_off_column_zero": Patch(
        "the kv and clipped sums over earlier requests taken by every column program but the first, which is the one that stores them",
        "        if col_slice == 0:\n            # One reduction of three sums",
        "        if col_slice != 0:\n            # One reduction of three sums",
    ),
    "cu_seqlens_writes_element_zero": Patch(
        "the first request block stores 0 into cu_seqlens_k[0], which the contract leaves untouched",
        "            tl.store(cu_seqlens_k_ptr + 1 + reqs, cu_kv.to(tl.int32), mask=req_mask)\n",
        "            tl.store(cu_seqlens_k_ptr + 1 + reqs, cu_kv.to(tl.int32), mask=req_mask)\n"
        "            if first_req == 0:\n"
        "                tl.store(cu_seqlens_k_ptr, 0)\n",
        domain="strict",
    ),
    "cache_seqlens_one_past_bs": Patch(
        "request mask `reqs <= bs` on cache_seqlens_int32: element bs, which is padding, gets 0",
        "tl.store(cache_seqlens_ptr + reqs, kv32, mask=req_mask)",
        "tl.store(cache_seqlens_ptr + reqs, kv32, mask=reqs <= bs)",
        guards=(
            (
                "tl.store(cache_seqlens_ptr + reqs, kv32, mask=reqs <= bs)",
                "tl.store(cache_seqlens_ptr + reqs, kv32, mask=(reqs <= bs) & (reqs < cache_capacity))",
            ),
            *_bound("cache_capacity", "cache_seqlens.shape[0]"),
        ),
    ),
    "expanded_start_off_by_one": Patch(
        "expanded lengths start at kv - qo instead of kv - qo + 1",
        "kv - qo + 1 + step, topk",
        "kv - qo + step, topk",
    ),
    "nsa_clip_topk_minus_one": Patch(
        "nsa_cache_seqlens_int32 clipped at nsa_index_topk - 1",
        "    if KPOOL_SHIFT == 0:\n        return tl.minimum(visible, topk)\n",
        "    if KPOOL_SHIFT == 0:\n        return tl.minimum(visible, topk - 1)\n",
    ),
    "clipped_prefix_int32": Patch(
        "the closed-form clipped prefix evaluated in int32: n * (n + 1) overflows past n = 46340",
        "def _clipped_prefix(n, topk, FLOOR: tl.constexpr, KPOOL_SHIFT: tl.constexpr):\n",
        "def _clipped_prefix(n, topk, FLOOR: tl.constexpr, KPOOL_SHIFT: tl.constexpr):\n    n = n.to(tl.int32)\n    topk = topk.to(tl.int32)\n",
    ),
    "real_page_trunc_division": Patch(
        "real pages by truncating `//` instead of an arithmetic shift: negative slots round toward zero",
        "                        page_slots >> PAGE_SHIFT,\n",
        "                        page_slots // (1 << PAGE_SHIFT),\n",
        domain="strict",
    ),
    "real_page_uses_page_index": Patch(
        "real page p taken from column p of the request's row instead of column p * page_size",
        "page_slots = _load_columns(src_rows, _page_starts(first_col, COL_TILE, PAGE_SHIFT, PAGE_TILE), col_end)",
        "page_slots = _load_columns(src_rows, _page_starts(first_col, COL_TILE, PAGE_SHIFT, PAGE_TILE) >> PAGE_SHIFT, col_end)",
        also=(
            (
                "src_rows, _page_starts(c + col_stride, COL_TILE, PAGE_SHIFT, PAGE_TILE), col_end)",
                "src_rows, _page_starts(c + col_stride, COL_TILE, PAGE_SHIFT, PAGE_TILE) >> PAGE_SHIFT, col_end)",
            ),
        ),
    ),
    "real_page_count_floor": Patch(
        "page count floor(columns / page_size): the last, partial page of each real_page_table row is dropped",
        "page_mask = (page_cols < c + COL_TILE)[None, :] & (page_cols[None, :] < col_end[:, None])",
        "page_mask = (page_cols < c + COL_TILE)[None, :] & (page_cols[None, :] + (1 << PAGE_SHIFT) <= col_end[:, None])",
    ),
    "page_tile_too_narrow": Patch(
        "one lane for every two pages of a column tile: the second half of each tile's real pages is never written",
        "max(1, tiles.col_tile >> page_shift),",
        "max(1, (tiles.col_tile >> page_shift) // 2),",
    ),
    "device_max_seqlen_own_block": Patch(
        "graph-resident max(seq_lens) taken over the program's own requests (a small batch's: its one request), not the whole batch",
        "offs, offs < bs, next_n, FORWARD_MODE)",
        "offs, (offs >= first_req) & (offs < first_req + REQS) & (offs < bs), next_n, FORWARD_MODE)",
        profile="full-width",
    ),
    "device_max_scan_stops_at_last_tile_start": Patch(
        "graph-resident max scan stopped once a kv length reaches the start of the program's last tile, not its end: a max inside that tile is missed",
        "tl.minimum(last_tile + COL_TILE, max_seqlen_k)",
        "tl.minimum(last_tile, max_seqlen_k)",
        profile="full-width",
    ),
    "device_max_scan_skipped_by_last_block": Patch(
        "graph-resident max scan skipped by the batch's last request block, as if it held the whole batch: it takes its own requests' max",
        "start = tl.where((first_req == 0) & (bs <= REQS), bs, 0)",
        "start = tl.where(first_req + REQS >= bs, bs, 0)",
        profile="full-width",
    ),
    "device_max_seqlen_ignored": Patch(
        "graph-resident columns bounded by the host argument (the buffers' capacity), not the device max(seq_lens)",
        "        max_seqlen_k = tl.minimum(longest, max_seqlen_k)\n",
        "",
        profile="full-width",
    ),
    "req_to_token_load_unmasked_columns": Patch(
        "page-row loads not masked past each row's end (stores still are): on a tight pool the last row's tile reads past its end",
        "return tl.load(src_rows[:, None] + cols[None, :], mask=cols[None, :] < col_end[:, None])",
        "return tl.load(src_rows[:, None] + cols[None, :], mask=(col_end > 0)[:, None])",
        shows_in="memcheck",
    ),
    "decode_prefix_sums_unclipped": Patch(
        "decode's prefix sums over earlier requests add their kv lengths, not their sparse (topk-clipped) ones",
        "        return _sparse_length(kv, topk, KPOOL_SHIFT)\n", "        return kv\n", forward_modes=("decode",),
    ),
    "decode_floor_one": Patch(
        "decode's causal lengths kept at least 1, as draft-extend's padding requests are: a seq_len of 0 reads 1",
        "call.padding_floor if mode.pads_below_one else 0,",
        "call.padding_floor if mode.pads_below_one else 1,",
        forward_modes=("decode",),
    ),
    "padding_floor_ignored": Patch(
        "the padding floor taken as 1 whatever the engine profile asks: sglang-dsa's padding requests read 1 where 0 is due",
        "call.padding_floor if mode.pads_below_one else 0,",
        "1 if mode.pads_below_one else 0,",
        forward_modes=("draft-extend",),
    ),
    "kpool_remainder_dropped": Patch(
        "KPool sparse lengths without the live partial pool: min(len // k * k, topk), the len % k dropped",
        "    return tl.minimum((visible >> KPOOL_SHIFT) << KPOOL_SHIFT, topk) + (visible & ((1 << KPOOL_SHIFT) - 1))\n",
        "    return tl.minimum((visible >> KPOOL_SHIFT) << KPOOL_SHIFT, topk)\n",
    ),
    "kpool_prefix_unpooled": Patch(
        "the NSA prefix sum's closed form without KPool: nsa_cu_seqlens_k sums min(len, topk) while the lengths are pooled",
        "    if KPOOL_SHIFT == 0:\n        return tl.where(n < 0",
        "    if True:\n        return tl.where(n < 0",
    ),
    "real_table_skipped_without_page_table_1": Patch(
        "the real page table's stores tied to page_table_1's: a caller that gives no page_table_1 gets no real table either",
        "                if PAGE_SHIFT > 0:\n                    # An arithmetic shift",
        "                if PAGE_SHIFT > 0 and HAS_PAGE_TABLE_1:\n                    # An arithmetic shift",
    ),
    "target_verify_kv_without_next_n": Patch(
        "target-verify's kv length taken as seq_lens, without the next_n draft tokens the verify pass attends to",
        "        return seq + draft, draft\n",
        "        return seq, draft\n",
        forward_modes=("target-verify",),
    ),
    "ctx_lens_2d_first_column_only": Patch(
        "paged_mqa_ctx_lens_2d written at draft position 0 only: the other next_n - 1 positions keep their old contents",
        "kv.to(tl.int32), mask=req_mask & (step < qo))",
        "kv.to(tl.int32), mask=req_mask & (step < 1))",
        forward_modes=("target-verify",),
    ),
    "ctx_lens_2d_stride_assumed": Patch(
        "paged_mqa_ctx_lens_2d's row stride taken as next_n, as if the (bs, next_n) buffer were contiguous",
        "paged_mqa_ctx_lens_ptr + reqs * paged_mqa_ctx_lens_stride + step",
        "paged_mqa_ctx_lens_ptr + reqs * next_n + step",
        forward_modes=("target-verify",),
    ),
    "target_verify_tokens_start_per_request": Patch(
        "target-verify's request blocks start their tokens at first_req, as decode's do, not first_req * next_n",
        "        tokens_before += first_req.to(tl.int64) * next_n\n",
        "        tokens_before += first_req.to(tl.int64)\n",
        forward_modes=("target-verify",),
    ),
    "static_width_tokens_start_at_next_n": Patch(
        "a draft-extend of static width starts each request block's tokens at first_req * next_n, target-verify's rule, where next_n is 1",
        "        tokens_before += first_req.to(tl.int64) * tl.max(qo, axis=0)\n", "        tokens_before += first_req.to(tl.int64) * next_n\n",
        forward_modes=("draft-extend",),
    ),
    "bs_specialised": Patch(
        "bs a constexpr: one compilation per batch size, as SGLang's fused kernel has",
        '        "bs",\n',
        "",
        also=(("    bs,\n    max_seqlen_k,\n", "    bs: tl.constexpr,\n    max_seqlen_k,\n"),),
        shows_in="compile_count",
    ),
    "max_seqlen_k_specialised": Patch(
        "max_seqlen_k a constexpr: one compilation per context length",
        '        "max_seqlen_k",\n',
        "",
        also=(("    max_seqlen_k,\n    nsa_index_topk,\n", "    max_seqlen_k: tl.constexpr,\n    nsa_index_topk,\n"),),
        shows_in="compile_count",
    ),
}

# The jit body, the launch geometry and the launcher: a snippet may be in any of them.
SHIPPED = ("kernel/dsa_metadata.py", "kernel/geometry.py", "kernel/launch.py")
CACHE = Path(tempfile.gettempdir()) / "dsa-metadata-mutants"


def shipped_sources() -> dict[str, str]:
    root = Path(importlib.util.find_spec("kernel").origin).parents[1]
    return {path: (root / path).read_text() for path in SHIPPED}


def patched_sources(name: str, sources: dict[str, str] | None = None) -> dict[str, str]:
    """The shipped sources (or `sources`) with mutant `name`'s edits, each made in the one file its
    snippet occurs in; StalePatch where a snippet does not occur exactly once among them all."""
    texts = dict(shipped_sources() if sources is None else sources)
    for snippet, replacement in PATCHES[name].edits():
        counts = {path: text.count(snippet) for path, text in texts.items()}
        if sum(counts.values()) != 1:
            raise StalePatch(
                f"mutant {name!r}: its snippet {snippet!r} occurs {sum(counts.values())} times in {', '.join(texts)}, "
                f"not once; update its entry in {__name__}.PATCHES to the shipped source"
            )
        path = max(counts, key=counts.get)
        texts[path] = texts[path].replace(snippet, replacement)
    return texts


def _module(name: str, path: str, source: str) -> ModuleType:
    """`source`, the mutant's copy of shipped file `path`, as a module of its own, imported from a
    file named by its hash (Triton's @jit reads a kernel's source back through inspect). It is named
    inside the kernel package, so that its relative imports find the shipped modules."""
    stem = f"_mutant_{name}_{Path(path).stem}_{hashlib.sha256(source.encode()).hexdigest()[:16]}"
    module_name = f"kernel.{stem}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    file = CACHE / f"{stem}.py"
    if not file.is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed, so that a process importing it never reads half a file.
        partial = file.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(source)
        os.replace(partial, file)
    spec = importlib.util.spec_from_file_location(module_name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def launcher(name: str):
    """Mutant `name`'s launcher (kernel.launch.Launcher) over the patched copies of the jit body and
    the geometry, every file a copy even where unpatched, so that the mutant shares neither compiled
    variants nor launch plans with the shipped kernel."""
    body, geometry, launch = (_module(name, path, source) for path, source in patched_sources(name).items())
    return launch.Launcher(body.dsa_metadata_kernel, geometry.launch_geometry)


def mutant(name: str) -> tuple[Contract, Contract, Contract]:
    """The public fills (kernel.call.public_fills' order) over mutant `name`'s launcher, named as
    attributes of `properties.mutants.<name>`, the module the import hook makes of them;
    `properties.mutants.mutants_of` lists only those of the modes its defect is in."""
    patch = PATCHES[name]
    fills = public_fills(launcher(name).fill, f"properties.mutants.{name}")
    for fill in fills:
        fill.shows_in, fill.domain = patch.shows_in, patch.domain
        if patch.profile:
            fill.profile = patch.profile
    return fills
