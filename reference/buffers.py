"""The seven preallocated metadata buffers that one draft-extend step fills.

In CUDA-graph mode SGLang allocates these once, at their largest size, and every replay writes a
prefix of them; everything past that prefix is padding that must keep its old contents.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

GUARD_CELLS = 64  # a multiple of 4, so that a guarded tensor keeps 16-byte alignment


def guarded_full(
    shape: tuple[int, ...],
    fill: int,
    *,
    dtype: torch.dtype = torch.int32,
    device: torch.device | str = "cpu",
    row_pad: int = 0,
    guard: int = 0,
) -> torch.Tensor:
    """A tensor of `shape` (1-D, or 2-D rows) filled with `fill`, living inside a larger storage that
    holds `guard` cells before and after it and `row_pad` cells after each row, all `fill` too.

    Cells of the storage outside the view are what a kernel that masks against a row stride instead
    of a width, or spills a tile past the end, would write: `outside_view_mask` finds them.
    """
    rows, cols = (1, shape[0]) if len(shape) == 1 else shape
    pitch = cols + row_pad
    storage = torch.full((guard + rows * pitch + guard,), fill, dtype=dtype, device=device)
    strides = (1,) if len(shape) == 1 else (pitch, 1)
    return storage.as_strided(shape, strides, guard)


def whole_storage(t: torch.Tensor) -> torch.Tensor:
    """Every cell of the storage that `t` views, as one flat tensor (a view, not a copy)."""
    return t.as_strided((t.untyped_storage().nbytes() // t.element_size(),), (1,), 0)


def outside_view_mask(t: torch.Tensor) -> torch.Tensor:
    """True at every cell of `whole_storage(t)` that `t` itself does not view."""
    outside = torch.ones(whole_storage(t).shape, dtype=torch.bool, device=t.device)
    outside.as_strided(t.shape, t.stride(), t.storage_offset()).fill_(False)
    return outside


def same_layout_copy(t: torch.Tensor, device: torch.device | str) -> torch.Tensor:
    """A copy of `t` on `device` in a storage of its own laid out like t's: offset, strides and the
    cells outside the view (guards, row padding) come along."""
    return whole_storage(t).to(device, copy=True).as_strided(t.shape, t.stride(), t.storage_offset())


BUFFER_NAMES = (
    "cache_seqlens_int32",
    "cu_seqlens_k",
    "page_table_1",
    "real_page_table",
    "nsa_seqlens_expanded",
    "nsa_cache_seqlens_int32",
    "nsa_cu_seqlens_k",
)


@dataclass
class DraftExtendMetadataBuffers:
    """int32 buffers, each at least as large as one call needs, in any row stride.

    `real_page_table` is the very tensor `page_table_1` when page_size == 1, as in SGLang, where
    the token-granular table already is the real one.
    """

    cache_seqlens_int32: torch.Tensor
    cu_seqlens_k: torch.Tensor
    page_table_1: torch.Tensor
    real_page_table: torch.Tensor
    nsa_seqlens_expanded: torch.Tensor
    nsa_cache_seqlens_int32: torch.Tensor
    nsa_cu_seqlens_k: torch.Tensor

    @classmethod
    def allocate(
        cls,
        *,
        max_bs: int,
        max_total_tokens: int,
        max_seqlen_k: int,
        page_size: int,
        device: torch.device | str = "cpu",
        sentinel: int = -7,
        row_pad: int = 0,
        guard: int = 0,
    ) -> "DraftExtendMetadataBuffers":
        """Buffers sized for up to `max_bs` requests and `max_total_tokens` draft tokens.

        Every cell starts as `sentinel`; `row_pad` extra columns are allocated past each table's
        row so that the tables are strided views, as padded graph buffers are, and each buffer
        lives `guard` cells into a storage that extends `guard` cells past it.
        """

        def vector(n: int) -> torch.Tensor:
            return guarded_full((n,), sentinel, device=device, guard=guard)

        def table(rows: int, cols: int) -> torch.Tensor:
            return guarded_full((rows, cols), sentinel, device=device, row_pad=row_pad, guard=guard)

        page_table_1 = table(max_total_tokens, max_seqlen_k)
        if page_size == 1:
            real_page_table = page_table_1
        else:
            real_page_table = table(max_total_tokens, -(-max_seqlen_k // page_size))
        return cls(
            cache_seqlens_int32=vector(max_bs),
            cu_seqlens_k=vector(max_bs + 1),
            page_table_1=page_table_1,
            real_page_table=real_page_table,
            nsa_seqlens_expanded=vector(max_total_tokens),
            nsa_cache_seqlens_int32=vector(max_total_tokens),
            nsa_cu_seqlens_k=vector(max_total_tokens + 1),
        )

    def clone(self) -> "DraftExtendMetadataBuffers":
        """A deep copy that keeps each buffer's storage layout and the page_size == 1 aliasing."""
        return self.to(self.page_table_1.device)

    def named(self) -> dict[str, torch.Tensor]:
        """Each distinct buffer by name (the aliased real_page_table is named once)."""
        out = {name: getattr(self, name) for name in BUFFER_NAMES}
        if self.real_page_table is self.page_table_1:
            del out["real_page_table"]
        return out

    def to(self, device: torch.device | str) -> "DraftExtendMetadataBuffers":
        """A copy on `device`, cell for cell, in the same storage layout (guards and row padding too)."""
        moved = {name: same_layout_copy(getattr(self, name), device) for name in BUFFER_NAMES}
        if self.real_page_table is self.page_table_1:
            moved["real_page_table"] = moved["page_table_1"]
        return dataclasses.replace(self, **moved)
