"""The seven preallocated metadata buffers that one draft-extend step fills.

In CUDA-graph mode SGLang allocates these once, at their largest size, and every replay writes a
prefix of them; everything past that prefix is padding that must keep its old contents.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

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
    ) -> "DraftExtendMetadataBuffers":
        """Buffers sized for up to `max_bs` requests and `max_total_tokens` draft tokens.

        Every cell starts as `sentinel`; `row_pad` extra columns are allocated past each table's
        row so that the tables are strided views, as padded graph buffers are.
        """

        def vector(n: int) -> torch.Tensor:
            return torch.full((n,), sentinel, dtype=torch.int32, device=device)

        def table(rows: int, cols: int) -> torch.Tensor:
            backing = torch.full((rows, cols + row_pad), sentinel, dtype=torch.int32, device=device)
            return backing[:, :cols]

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
        """A deep copy that keeps each table's strides and the page_size == 1 aliasing."""
        return self.to(self.page_table_1.device)

    def named(self) -> dict[str, torch.Tensor]:
        """Each distinct buffer by name (the aliased real_page_table is named once)."""
        out = {name: getattr(self, name) for name in BUFFER_NAMES}
        if self.real_page_table is self.page_table_1:
            del out["real_page_table"]
        return out

    def to(self, device: torch.device | str) -> "DraftExtendMetadataBuffers":
        """A copy on `device`, cell for cell, in the same strides."""
        moved = {}
        for name in BUFFER_NAMES:
            t = getattr(self, name)
            out = torch.empty_strided(t.shape, t.stride(), dtype=t.dtype, device=device)
            out.copy_(t)
            moved[name] = out
        if self.real_page_table is self.page_table_1:
            moved["real_page_table"] = moved["page_table_1"]
        return dataclasses.replace(self, **moved)
