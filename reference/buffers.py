"""The preallocated metadata buffers that one replay of the DSA backend fills.

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
    "paged_mqa_ctx_lens_2d",
)

# Each buffer's axes: per request, per request with a leading 0 ("request+1": element 0 is the empty
# prefix, which the contract never writes), per packed token (likewise "token+1"), page-table columns
# (max_seqlen_k), real pages (ceil(max_seqlen_k / page_size)) and draft positions (next_n). Allocation,
# the written region, mismatch locations and capacity checks all follow from this table.
AXES: dict[str, tuple[str, ...]] = {
    "cache_seqlens_int32": ("request",),
    "cu_seqlens_k": ("request+1",),
    "page_table_1": ("token", "column"),
    "real_page_table": ("token", "page"),
    "nsa_seqlens_expanded": ("token",),
    "nsa_cache_seqlens_int32": ("token",),
    "nsa_cu_seqlens_k": ("token+1",),
    "paged_mqa_ctx_lens_2d": ("request", "draft"),
}


def extents(*, requests: int, tokens: int, columns: int, page_size: int, next_n: int) -> dict[str, int]:
    """The size of each axis of AXES for a call (or, given capacities, for an allocation)."""
    return {"request": requests, "token": tokens, "column": columns, "page": -(-columns // page_size), "draft": next_n}


def written_region(name: str, sizes: dict[str, int]) -> tuple[slice, ...]:
    """The cells of buffer `name` that a call of these axis sizes writes."""
    return tuple(
        slice(1, sizes[axis[:-2]] + 1) if axis.endswith("+1") else slice(0, sizes[axis]) for axis in AXES[name]
    )


@dataclass
class MetadataBuffers:
    """int32 buffers, each at least as large as one call needs, in any row stride.

    `real_page_table` is the very tensor `page_table_1` when page_size == 1, as in SGLang, where
    the token-granular table already is the real one. With page_size > 1 a caller may give no
    `page_table_1` (None): only the real page table is then written. A mode that does not write a
    buffer leaves it None: decode has no `nsa_seqlens_expanded` (its tokens' lengths are `cache_seqlens_int32`), and
    `paged_mqa_ctx_lens_2d` is target-verify's, and only where the caller gives it.
    """

    cache_seqlens_int32: torch.Tensor
    cu_seqlens_k: torch.Tensor
    page_table_1: torch.Tensor | None
    real_page_table: torch.Tensor
    nsa_seqlens_expanded: torch.Tensor | None
    nsa_cache_seqlens_int32: torch.Tensor
    nsa_cu_seqlens_k: torch.Tensor
    paged_mqa_ctx_lens_2d: torch.Tensor | None = None

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
        names: tuple[str, ...] = BUFFER_NAMES[:7],
        next_n: int = 1,
    ) -> "MetadataBuffers":
        """Buffers `names` sized for up to `max_bs` requests, `max_total_tokens` tokens and
        `max_seqlen_k` columns (`next_n` draft positions); the others are None.

        Every cell starts as `sentinel`; `row_pad` extra columns are allocated past each table's
        row so that the tables are strided views, as padded graph buffers are, and each buffer
        lives `guard` cells into a storage that extends `guard` cells past it.
        """
        sizes = extents(requests=max_bs, tokens=max_total_tokens, columns=max_seqlen_k, page_size=page_size, next_n=next_n)

        def allocated(name: str) -> torch.Tensor | None:
            if name not in names:
                return None
            shape = tuple(sizes[axis[:-2]] + 1 if axis.endswith("+1") else sizes[axis] for axis in AXES[name])
            return guarded_full(shape, sentinel, device=device, row_pad=row_pad if len(shape) == 2 else 0, guard=guard)

        out = {name: allocated(name) for name in BUFFER_NAMES if name != "real_page_table"}
        out["real_page_table"] = out["page_table_1"] if page_size == 1 else allocated("real_page_table")
        if out["real_page_table"] is None:
            raise ValueError("page_size == 1 needs page_table_1: it is the real page table there")
        return cls(**out)

    def clone(self) -> "MetadataBuffers":
        """A deep copy that keeps each buffer's storage layout and the page_size == 1 aliasing."""
        return self.to(self.cache_seqlens_int32.device)

    def named(self) -> dict[str, torch.Tensor]:
        """Each distinct buffer that is there, by name (the aliased real_page_table is named once)."""
        out = {name: t for name in BUFFER_NAMES if (t := getattr(self, name)) is not None}
        if self.real_page_table is self.page_table_1:
            del out["real_page_table"]
        return out

    def token_lengths(self) -> torch.Tensor:
        """Each token's causal length: `nsa_seqlens_expanded`, or for decode, whose tokens are its
        requests, `cache_seqlens_int32`, as SGLang's decode branch takes it."""
        return self.cache_seqlens_int32 if self.nsa_seqlens_expanded is None else self.nsa_seqlens_expanded

    def to(self, device: torch.device | str) -> "MetadataBuffers":
        """A copy on `device`, cell for cell, in the same storage layout (guards and row padding too)."""
        moved = {name: same_layout_copy(t, device) for name, t in self.named().items()}
        if "real_page_table" not in moved:
            moved["real_page_table"] = moved["page_table_1"]
        return dataclasses.replace(self, **moved)
