"""The Triton mutants: the shipped module, kernel/draft_extend_metadata.py, with one defect patched in.

A mutant is written as text edits of the shipped source (kernel and launcher alike), as Triton's own
tests build kernel variants from one template, so that every mutant keeps pace with the kernel we
ship: a snippet that no longer occurs exactly once in it fails loudly, naming the mutant, at load time
and in tests/test_mutants.py. The patched source is written to a file (Triton's @jit reads its source
back through inspect) and imported as a module of its own, so each mutant is a complete copy of the
shipped module, graph-resident mode (`supports_graph_resident`) and launch plans included.

`guards` are edits that change nothing the defect shows: they only keep its reads and writes inside
their allocations, where the defect alone would reach past them (Triton's interpreter then reads or
corrupts host memory, and a GPU faults). The guards need sizes the kernel is not given, so `_bound`
passes one from the launcher as a runtime int.

A patch with `shows_in` is visible only to a GPU family of checks (compute-sanitizer's memcheck, the
count of compilations): its values are the shipped kernel's, and the CPU tier does not hunt it.
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

from properties.harness import Contract

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

    def edits(self) -> tuple[Edit, ...]:
        return ((self.snippet, self.replacement), *self.also, *self.guards)


class StalePatch(RuntimeError):
    """A mutant's snippet does not occur exactly once in the shipped source any more."""


def _bound(param: str, value: str) -> tuple[Edit, ...]:
    """Edits that hand the launcher's `value` to the kernel as the runtime int `param`, kept out of
    specialisation so that it costs no compilation of its own."""
    return (
        ('        "token_capacity",\n    ]', f'        "token_capacity",\n        "{param}",\n    ]'),
        ("    token_capacity,\n    REQS: tl.constexpr,", f"    token_capacity,\n    {param},\n    REQS: tl.constexpr,"),
        ("        shape.token_capacity,\n        geometry.reqs,", f"        shape.token_capacity,\n        {value},\n        geometry.reqs,"),
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
        "):\n    if PER_REQUEST:\n",
        "):\n    req_pool_indices_ptr = req_pool_indices_ptr.to(tl.pointer_type(tl.int32))\n    if PER_REQUEST:\n",
    ),
    "seq_lens_int64_as_int32": Patch(
        "seq_lens read through an int32 pointer: int64 lengths read as (low, high) word pairs",
        "):\n    if PER_REQUEST:\n",
        "):\n    seq_lens_ptr = seq_lens_ptr.to(tl.pointer_type(tl.int32))\n    if PER_REQUEST:\n",
    ),
    "req_to_token_stride_assumed": Patch(
        "req_to_token's row stride taken as max_seqlen_k, as if the pool were exactly as wide as the call",
        "src_rows = tl.sum(tl.where(owner, pool_rows[None, :], 0), axis=1) * req_to_token_stride",
        "src_rows = tl.sum(tl.where(owner, pool_rows[None, :], 0), axis=1) * max_seqlen_k",
    ),
    "page_table_1_stride_assumed": Patch(
        "page_table_1's row stride taken as max_seqlen_k, as if the padded graph buffer were contiguous",
        "dst_rows = token * page_table_1_stride",
        "dst_rows = token * max_seqlen_k",
    ),
    "real_page_table_stride_assumed": Patch(
        "real_page_table's row stride taken as its page count, as if the padded graph buffer were contiguous",
        "real_rows = token * real_page_table_stride",
        "real_rows = token * ((max_seqlen_k + (1 << log2_page_size) - 1) >> log2_page_size)",
    ),
    "column_one_past_end": Patch(
        "column mask `cols <= max_seqlen_k`: page_table_1 (and the real table) get one column past the call's",
        "m = token_mask[:, None] & (cols < max_seqlen_k)[None, :]",
        "m = token_mask[:, None] & (cols <= max_seqlen_k)[None, :]",
        guards=(
            (
                "                m = token_mask[:, None] & (cols <= max_seqlen_k)[None, :]\n",
                "                m = token_mask[:, None] & (cols <= max_seqlen_k)[None, :]\n"
                "                m = m & ((cols < req_to_token_stride) & (cols < page_table_1_stride))[None, :]\n"
                "                m = m & ((cols >> log2_page_size) < real_page_table_stride)[None, :]\n",
            ),
        ),
    ),
    "column_tile_frozen": Patch(
        "every column tile of a program at col_begin instead of the loop's column: only its first tile is written",
        "cols = c + tl.arange(0, COL_TILE)\n                m = token_mask",
        "cols = col_begin + tl.arange(0, COL_TILE)\n                m = token_mask",
    ),
    "token_row_one_past_total": Patch(
        "token mask `local <= block_tokens` (per request, `step <= qo`): token row `total`, which is padding, is written",
        "token_mask = (local < block_tokens) & (token < token_capacity)",
        "token_mask = (local <= block_tokens) & (token < token_capacity)",
        also=(("token_mask = (step < qo) & (token < token_capacity)", "token_mask = (step <= qo) & (token < token_capacity)"),),
    ),
    "token_tile_drops_partial": Patch(
        "token-tile loop bound that covers full tiles only: the last partial tile of tokens is dropped",
        "for t0 in range(0, tile_end, TOKEN_TILE):",
        "for t0 in range(0, tile_end - TOKEN_TILE + 1, TOKEN_TILE):",
    ),
    "owner_mask_inclusive_end": Patch(
        "token ownership `local <= token_end`: a request's boundary token is owned by two requests",
        "(local[:, None] < token_end[None, :])",
        "(local[:, None] <= token_end[None, :])",
        guards=(
            (
                "src_rows = tl.sum(tl.where(owner, pool_rows[None, :], 0), axis=1) * req_to_token_stride",
                "src_rows = tl.minimum(tl.sum(tl.where(owner, pool_rows[None, :], 0), axis=1), pool_size - 1)"
                " * req_to_token_stride",
            ),
            *_bound("pool_size", "req_to_token.shape[0]"),
        ),
    ),
    "single_request_block": Patch(
        "grid of one request block: only the first REQS requests and their tokens are written",
        "return LaunchPlan((geometry.req_programs, geometry.col_programs),",
        "return LaunchPlan((1, geometry.col_programs),",
    ),
    "grid_axes_swapped": Patch(
        "request block read from program_id(1) and column program from program_id(0)",
        "    first_req = tl.program_id(0) * REQS\n    col_slice = tl.program_id(1)\n",
        "    first_req = tl.program_id(1) * REQS\n    col_slice = tl.program_id(0)\n",
        guards=(("        m = offs < scan_end\n", "        m = (offs < scan_end) & (offs < bs)\n"),),
    ),
    "kv_prefix_restarts_per_program": Patch(
        "cu_seqlens_k's prefix sum restarts at every request block: earlier blocks' seq_lens not added",
        "        kv_before += tl.sum(kv.to(tl.int32).to(tl.int64), axis=0)\n",
        "",
    ),
    "nsa_prefix_restarts_per_program": Patch(
        "nsa_cu_seqlens_k's prefix sum restarts at every request block: earlier blocks' clipped lengths not added",
        "        clipped_before += tl.sum(_clipped_prefix(kv, topk) - _clipped_prefix(kv - qo, topk), axis=0)\n",
        "",
    ),
    "cu_seqlens_writes_element_zero": Patch(
        "the first request block stores 0 into cu_seqlens_k[0], which the contract leaves untouched",
        "            tl.store(cu_seqlens_k_ptr + 1 + reqs, cu_kv.to(tl.int32), mask=req_mask)\n",
        "            tl.store(cu_seqlens_k_ptr + 1 + reqs, cu_kv.to(tl.int32), mask=req_mask)\n"
        "            if first_req == 0:\n"
        "                tl.store(cu_seqlens_k_ptr, 0)\n",
        also=(
            (
                "            tl.store(cu_seqlens_k_ptr + 1 + b, cu_kv.to(tl.int32))\n",
                "            tl.store(cu_seqlens_k_ptr + 1 + b, cu_kv.to(tl.int32))\n"
                "            if b == 0:\n"
                "                tl.store(cu_seqlens_k_ptr, 0)\n",
            ),
        ),
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
        "visible = owner_kv - owner_qo + 1 + step",
        "visible = owner_kv - owner_qo + step",
    ),
    "nsa_clip_topk_minus_one": Patch(
        "nsa_cache_seqlens_int32 clipped at nsa_index_topk - 1",
        "tl.minimum(visible, topk).to(tl.int32)",
        "tl.minimum(visible, topk - 1).to(tl.int32)",
    ),
    "clipped_prefix_int32": Patch(
        "the closed-form clipped prefix evaluated in int32: n * (n + 1) overflows past n = 46340",
        "def _clipped_prefix(n, topk):\n",
        "def _clipped_prefix(n, topk):\n    n = n.to(tl.int32)\n    topk = topk.to(tl.int32)\n",
    ),
    "real_page_trunc_division": Patch(
        "real pages by truncating `//` instead of an arithmetic shift: negative slots round toward zero",
        "(cols >> log2_page_size)[None, :],\n                        slots >> log2_page_size,\n",
        "(cols >> log2_page_size)[None, :],\n                        slots // (1 << log2_page_size),\n",
        also=(
            (
                "(cols >> log2_page_size),\n                        slots >> log2_page_size,\n",
                "(cols >> log2_page_size),\n                        slots // (1 << log2_page_size),\n",
            ),
        ),
        domain="strict",
    ),
    "real_page_uses_page_index": Patch(
        "real page p taken from column p of the request's row instead of column p * page_size",
        "page_start = (cols & ((1 << log2_page_size) - 1)) == 0",
        "page_start = cols < ((max_seqlen_k + (1 << log2_page_size) - 1) >> log2_page_size)",
        also=(("real_rows[:, None] + (cols >> log2_page_size)[None, :]", "real_rows[:, None] + cols[None, :]"),),
    ),
    "real_page_count_floor": Patch(
        "page count floor(max_seqlen_k / page_size): the last, partial page of real_page_table is dropped",
        "mask=m & page_start[None, :],",
        "mask=m & page_start[None, :] & (cols + (1 << log2_page_size) <= max_seqlen_k)[None, :],",
    ),
    "device_max_seqlen_own_block": Patch(
        "graph-resident max(seq_lens) taken over the program's own requests, not the whole batch",
        "longest = tl.maximum(longest, tl.max(kv, axis=0))",
        "longest = tl.maximum(longest, tl.max(tl.where((offs >= first_req) & (offs < first_req + REQS), kv, 0), axis=0))",
    ),
    "device_max_seqlen_ignored": Patch(
        "graph-resident columns bounded by the host argument (the buffers' capacity), not the device max(seq_lens)",
        "    if DEVICE_MAX_SEQLEN:\n        max_seqlen_k = tl.minimum(longest, max_seqlen_k)\n",
        "",
    ),
    "req_to_token_load_unmasked_columns": Patch(
        "page-row load not masked past max_seqlen_k (rows still are): on a tight pool it reads past the last row",
        "slots = tl.load(req_to_token_ptr + src_rows[:, None] + cols[None, :], mask=m)",
        "slots = tl.load(req_to_token_ptr + src_rows[:, None] + cols[None, :], mask=token_mask[:, None])",
        shows_in="memcheck",
    ),
    "per_request_token_start_inclusive": Patch(
        "small batches: a request's tokens start after its own extend length too (`lanes <= b`)",
        "    before = lanes < b\n",
        "    before = lanes <= b\n",
    ),
    "per_request_pool_index_ignored": Patch(
        "small batches: page rows read from req_to_token row b instead of row req_pool_indices[b]",
        "pool_row = tl.load(req_pool_indices_ptr + b).to(tl.int64)",
        "pool_row = b.to(tl.int64)",
    ),
    "per_request_page_table_stride_assumed": Patch(
        "small batches: page_table_1's row stride taken as max_seqlen_k",
        "tl.store(page_table_1_ptr + token * page_table_1_stride + cols, slots, mask=m)",
        "tl.store(page_table_1_ptr + token * max_seqlen_k + cols, slots, mask=m)",
    ),
    "per_request_device_max_own_request": Patch(
        "small batches, graph-resident: max(seq_lens) taken as the program's own request's length",
        "        max_seqlen_k = tl.minimum(tl.max(kv_all, axis=0), max_seqlen_k)\n",
        "        max_seqlen_k = tl.minimum(kv, max_seqlen_k)\n",
    ),
    "per_request_row_load_unmasked": Patch(
        "small batches: the request's row tile loaded without its column mask (stores keep it): on a tight pool it reads past the last row",
        "            slots = tl.load(src + cols, mask=m)\n",
        "            slots = tl.load(src + cols)\n",
        shows_in="memcheck",
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

SHIPPED = "kernel/draft_extend_metadata.py"
CACHE = Path(tempfile.gettempdir()) / "nsa-draft-extend-mutants"


def shipped_source() -> str:
    kernel_package = importlib.util.find_spec("kernel")
    return (Path(kernel_package.origin).parent / "draft_extend_metadata.py").read_text()


def patched_source(name: str, source: str | None = None) -> str:
    """The shipped source (or `source`) with mutant `name`'s edits; StalePatch where any snippet
    does not occur exactly once."""
    text = shipped_source() if source is None else source
    for snippet, replacement in PATCHES[name].edits():
        count = text.count(snippet)
        if count != 1:
            raise StalePatch(
                f"mutant {name!r}: its snippet {snippet!r} occurs {count} times in {SHIPPED}, not once; "
                f"update its entry in {__name__}.PATCHES to the shipped source"
            )
        text = text.replace(snippet, replacement)
    return text


def load(name: str) -> ModuleType:
    """Mutant `name` as a module of its own, imported from a file named by its source's hash."""
    source = patched_source(name)
    module_name = f"_nsa_mutant_{name}_{hashlib.sha256(source.encode()).hexdigest()[:16]}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    path = CACHE / f"{module_name}.py"
    if not path.is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed, so that a process importing it never reads half a file.
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(source)
        os.replace(partial, path)
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def mutant(module_name: str) -> Contract:
    """The `fill_draft_extend_metadata` of the mutant that module `module_name` is named after."""
    name = module_name.rpartition(".")[2]
    fill = load(name).fill_draft_extend_metadata
    if PATCHES[name].shows_in:
        fill.shows_in = PATCHES[name].shows_in
    fill.domain = PATCHES[name].domain
    return fill
