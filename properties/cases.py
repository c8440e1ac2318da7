"""One generated input of the contract, in plain values, and how to turn it into tensors.

A case is small to store and print (lists and ints): `req_to_token`, which can hold millions of
cells, is stored as the recipe that builds it (seeded permutations, so every value is distinct and
a wrong row or column can never read back the right value by luck).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from reference.buffers import DraftExtendMetadataBuffers

LARGE_BATCH = 257  # above every batch-axis block a kernel of this family uses (256-wide scans)
MANY_TOKENS = 1025  # above every tile on any axis (1024-wide column tiles)
LONG_CONTEXT = 65_536
# Many requests and many columns at once: at the GPU geometry (16 requests a program, ~1024
# programs, 256-column tiles) each column program then walks more than one tile.
WIDE_BATCH, WIDE_CONTEXT = 497, 8_193
# n * (n + 1) / 2 leaves int32 past n = 46340: a closed-form sum of lengths is wrong there in int32.
TRIANGLE_LIMIT = 46_340

EDGE_CLASSES = (
    "decode_like",
    "full_extend",
    "zero_extend",
    "all_clipped",
    "straddles_topk",
    "single_request",
    "large_batch",
    "many_tokens",
    "long_context",
    "slack_max_seqlen_k",
    "page_size_1",
    "page_size_64",
    "int64_inputs",
    "triangle_past_int32",
    "wide_and_long",
)


@dataclass(frozen=True)
class DraftExtendCase:
    seq_lens: tuple[int, ...]
    extend_seq_lens: tuple[int, ...]
    req_pool_indices: tuple[int, ...]
    pool_size: int
    context_len: int
    nsa_index_topk: int
    page_size: int
    max_seqlen_k: int
    seq_lens_dtype: str = "int32"
    extend_seq_lens_dtype: str = "int32"
    req_pool_indices_dtype: str = "int32"
    req_to_token_seed: int = 0
    req_to_token_base: int = 0
    req_to_token_row_pad: int = 0
    spare_requests: int = 0
    spare_tokens: int = 0
    spare_cols: int = 0
    row_pad: int = 0
    sentinel: int = -7

    @property
    def bs(self) -> int:
        return len(self.seq_lens)

    @property
    def total_tokens(self) -> int:
        return sum(self.extend_seq_lens)

    def expanded(self) -> list[int]:
        return [kv - qo + 1 + j for kv, qo in zip(self.seq_lens, self.extend_seq_lens) for j in range(qo)]

    def edge_classes(self) -> frozenset[str]:
        """The edge classes of EDGE_CLASSES that this case exercises."""
        expanded = self.expanded()
        topk = self.nsa_index_topk
        dtypes = (self.seq_lens_dtype, self.extend_seq_lens_dtype, self.req_pool_indices_dtype)
        checks = {
            "decode_like": all(qo == 1 for qo in self.extend_seq_lens),
            "full_extend": any(qo == kv and qo > 0 for kv, qo in zip(self.seq_lens, self.extend_seq_lens)),
            "zero_extend": any(qo == 0 for qo in self.extend_seq_lens),
            "all_clipped": bool(expanded) and all(v > topk for v in expanded),
            "straddles_topk": topk in expanded and topk + 1 in expanded,
            "single_request": self.bs == 1,
            "large_batch": self.bs >= LARGE_BATCH,
            "many_tokens": self.total_tokens >= MANY_TOKENS,
            "long_context": max(self.seq_lens) >= LONG_CONTEXT,
            "slack_max_seqlen_k": self.max_seqlen_k > max(self.seq_lens),
            "page_size_1": self.page_size == 1,
            "page_size_64": self.page_size == 64,
            "int64_inputs": "int64" in dtypes,
            "triangle_past_int32": topk > TRIANGLE_LIMIT
            and any(kv - qo <= TRIANGLE_LIMIT < kv for kv, qo in zip(self.seq_lens, self.extend_seq_lens)),
            "wide_and_long": self.bs >= WIDE_BATCH and self.max_seqlen_k >= WIDE_CONTEXT,
        }
        return frozenset(name for name, hit in checks.items() if hit)

    def with_changes(self, **changes) -> "DraftExtendCase":
        return dataclasses.replace(self, **changes)

    def permuted(self, order: list[int]) -> "DraftExtendCase":
        """The same requests in another order."""
        pick = lambda xs: tuple(xs[i] for i in order)  # noqa: E731
        return self.with_changes(
            seq_lens=pick(self.seq_lens),
            extend_seq_lens=pick(self.extend_seq_lens),
            req_pool_indices=pick(self.req_pool_indices),
        )

    def req_to_token(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """base + rows[r] * context_len + cols[c], for seeded permutations rows and cols: every cell
        distinct, and built in O(pool + context) host work however large the table."""
        generator = torch.Generator().manual_seed(self.req_to_token_seed)
        rows = torch.randperm(self.pool_size, generator=generator, dtype=torch.int32)
        cols = torch.randperm(self.context_len, generator=generator, dtype=torch.int32)
        rows, cols = rows.to(device), cols.to(device)
        table = torch.full(
            (self.pool_size, self.context_len + self.req_to_token_row_pad),
            self.sentinel,
            dtype=torch.int32,
            device=device,
        )
        view = table[:, : self.context_len]
        view.copy_((rows * self.context_len + self.req_to_token_base)[:, None] + cols[None, :])
        return view

    def inputs(self, device: torch.device | str = "cpu") -> tuple[torch.Tensor, ...]:
        """(seq_lens, extend_seq_lens, req_pool_indices, req_to_token) as the contract takes them."""

        def vector(values, dtype):
            return torch.tensor(values, dtype=getattr(torch, dtype), device=device)

        return (
            vector(self.seq_lens, self.seq_lens_dtype),
            vector(self.extend_seq_lens, self.extend_seq_lens_dtype),
            vector(self.req_pool_indices, self.req_pool_indices_dtype),
            self.req_to_token(device),
        )

    def buffers(self, device: torch.device | str = "cpu", sentinel: int | None = None) -> DraftExtendMetadataBuffers:
        return DraftExtendMetadataBuffers.allocate(
            max_bs=self.bs + self.spare_requests,
            max_total_tokens=self.total_tokens + self.spare_tokens,
            max_seqlen_k=self.max_seqlen_k + self.spare_cols,
            page_size=self.page_size,
            device=device,
            sentinel=self.sentinel if sentinel is None else sentinel,
            row_pad=self.row_pad,
        )

    def options(self) -> dict[str, int]:
        return {
            "nsa_index_topk": self.nsa_index_topk,
            "page_size": self.page_size,
            "max_seqlen_k": self.max_seqlen_k,
        }

    def segments(self) -> list[tuple[int, int]]:
        """[start, end) of each request's tokens in the packed token axis."""
        out, start = [], 0
        for qo in self.extend_seq_lens:
            out.append((start, start + qo))
            start += qo
        return out

    def token_owner(self, token: int) -> tuple[int, int]:
        """(request, step within the request) of a packed token index."""
        for b, (start, end) in enumerate(self.segments()):
            if token < end:
                return b, token - start
        raise IndexError(f"token {token} is past the {self.total_tokens} tokens of this case")

    def written_region(self) -> dict[str, tuple[slice, ...]]:
        """The cells of each buffer that the contract writes; every other cell must keep its contents."""
        bs, total, msk = self.bs, self.total_tokens, self.max_seqlen_k
        return {
            "cache_seqlens_int32": (slice(0, bs),),
            "cu_seqlens_k": (slice(1, bs + 1),),
            "page_table_1": (slice(0, total), slice(0, msk)),
            "real_page_table": (slice(0, total), slice(0, -(-msk // self.page_size))),
            "nsa_seqlens_expanded": (slice(0, total),),
            "nsa_cache_seqlens_int32": (slice(0, total),),
            "nsa_cu_seqlens_k": (slice(1, total + 1),),
        }
