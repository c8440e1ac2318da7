"""One generated input of a forward mode's contract, in plain values, and how to turn it into tensors.

A case is small to store and print (lists and ints): `req_to_token`, which can hold millions of
cells, is stored as the recipe that builds it (seeded permutations, so every value is distinct and
a wrong row or column can never read back the right value by luck).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from reference.buffers import AXES, GUARD_CELLS, MetadataBuffers, extents, guarded_full, written_region
from reference.engines import DEFAULT_PROFILE, EngineProfile, engine_profile
from reference.modes import DEFAULT_FORWARD_MODE, DRAFT_EXTEND, TARGET_VERIFY, ForwardMode, forward_mode

# The inputs a case may hold, each with what it allows.
DOMAINS = {
    "sglang": "what SGLang passes (slots >= 0, cu buffers zeroed)",
    "strict": "any int32 slots, element 0 of the cu buffers kept",
}
STATIC_WIDTHS = tuple(range(1, 9))  # tokens per request in static-width mode: SGLang's draft lengths


@dataclass(frozen=True)
class ReplayCase:
    """One call of a forward mode's fill, in plain values: the requests, the pool, the host ints and
    how the buffers and inputs are laid out. `extend_seq_lens` holds each request's tokens (set from
    the mode for decode and target-verify), so every token-axis computation reads one field."""

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
    guard: int = GUARD_CELLS
    cu_head_zero: bool = False  # element 0 of both cu buffers holds 0 on entry (the sglang domain)
    static_extend_len: bool = False  # every request extends the same number of tokens, and the caller says so
    # The per-request inputs are the [:bs] prefix views of tensors this many entries longer, as SGLang's
    # graph runners pass their max-capacity buffers; the entries past bs hold a larger earlier batch's
    # live values, which a kernel must not read.
    input_spare: int = 0
    forward_mode: str = DEFAULT_FORWARD_MODE
    next_n: int = 1  # target-verify's draft tokens per request (speculative_num_draft_tokens)
    ctx_lens_2d: bool = False  # target-verify is given paged_mqa_ctx_lens_2d to fill
    # Trailing requests that pad a graph bucket (seq_len 1 or 0, pool row 0). Draft-extend's padding
    # shows in its lengths (extend_seq_lens > seq_lens); the other modes' is known only from here.
    padding: int = 0
    # The engine profile whose contract judges the call (reference.engines), and the two inputs on
    # which the engines differ: the KPool size of the sparse lengths, and whether the caller gives a
    # page_table_1 at all (page_size > 1 may give None).
    profile: str = DEFAULT_PROFILE
    index_kpool: int = 1
    page_table_1_given: bool = True

    def __post_init__(self):
        # Decode and target-verify have no extend lengths: each request's number of tokens follows
        # from the mode, and is stored here so that every token-axis computation reads one field.
        if self.forward_mode != DRAFT_EXTEND.name:
            qo = self.next_n if self.forward_mode == TARGET_VERIFY.name else 1
            object.__setattr__(self, "extend_seq_lens", (qo,) * len(self.seq_lens))

    @property
    def mode(self) -> ForwardMode:
        return forward_mode(self.forward_mode)

    @property
    def engine(self) -> EngineProfile:
        return engine_profile(self.profile)

    @property
    def floor(self) -> int:
        """The least causal length a token is given: the mode's floor under the engine profile."""
        return self.mode.length_floor(self.engine)

    @property
    def kv_lens(self) -> tuple[int, ...]:
        """Each request's kv length: seq_lens, plus next_n for target-verify."""
        return tuple(kv for kv, _ in self.mode.request_lengths(self.seq_lens, self.extend_seq_lens, self.next_n))

    @property
    def bs(self) -> int:
        return len(self.seq_lens)

    @property
    def total_tokens(self) -> int:
        return sum(self.extend_seq_lens)

    @property
    def longest(self) -> int:
        """The longest kv length, 0 for an empty batch: what graph-resident mode takes as max_seqlen_k."""
        return max(self.kv_lens, default=0)

    def summary(self) -> str:
        """The case in one short line: what a person reads first (the whole case is in a reproducer)."""
        parts = [
            self.forward_mode, f"bs={self.bs}", f"tokens={self.total_tokens}", f"max_seqlen_k={self.max_seqlen_k}",
            f"page_size={self.page_size}", f"topk={self.nsa_index_topk}", f"profile={self.profile}",
            f"padding={len(self.padding_requests())}",
        ]
        if self.forward_mode == TARGET_VERIFY.name:
            parts.append(f"next_n={self.next_n}")
        if self.index_kpool != 1:
            parts.append(f"index_kpool={self.index_kpool}")
        if not self.page_table_1_given:
            parts.append("no page_table_1")
        return " ".join(parts)

    def padding_requests(self) -> list[int]:
        """The graph-bucket padding requests: for draft-extend those that extend past their own kv
        length, for the other modes the trailing `padding` requests."""
        if self.forward_mode == DRAFT_EXTEND.name:
            return [b for b, (kv, qo) in enumerate(zip(self.seq_lens, self.extend_seq_lens)) if qo > kv]
        return list(range(self.bs - min(self.padding, self.bs), self.bs))

    def expanded(self) -> list[int]:
        """Every token's causal length, in packed order."""
        return [v for kv, qo in zip(self.kv_lens, self.extend_seq_lens) for v in self.mode.expanded_lengths(kv, qo, self.floor)]

    def input_names(self) -> tuple[str, ...]:
        return self.mode.inputs

    def buffer_names(self) -> tuple[str, ...]:
        """The buffers a call of this case is given: the mode's, less the 2-D schedule lengths where
        the caller gives none."""
        dropped = {"paged_mqa_ctx_lens_2d": not self.ctx_lens_2d, "page_table_1": not self.page_table_1_given}
        return tuple(name for name in self.mode.writes if not dropped.get(name, False))

    def with_changes(self, **changes) -> "ReplayCase":
        return dataclasses.replace(self, **changes)

    def permuted(self, order: list[int]) -> "ReplayCase":
        """The same requests in another order."""
        pick = lambda xs: tuple(xs[i] for i in order)  # noqa: E731
        return self.with_changes(
            seq_lens=pick(self.seq_lens),
            extend_seq_lens=pick(self.extend_seq_lens),
            req_pool_indices=pick(self.req_pool_indices),
        )

    def in_domain(self, domain: str) -> "ReplayCase":
        """This case under a domain's rules. `strict`: any int32 slot values, element 0 of both cu
        buffers holds the sentinel and must keep it. `sglang`: what SGLang ever passes, slots in
        [0, 2^31) (they are KV-cache indices) and cu buffers allocated zeroed, so element 0 holds 0
        on entry and a kernel may store 0 there (anything else is still a bug)."""
        if domain == "strict":
            return self
        if domain != "sglang":
            raise ValueError(f"unknown domain {domain!r}; known: {', '.join(DOMAINS)}")
        cells = self.pool_size * self.context_len
        base = min(max(self.req_to_token_base, 0), 2**31 - 1 - cells)
        return self.with_changes(req_to_token_base=base, cu_head_zero=True)

    def static_width(self, width: int | None = None) -> "ReplayCase":
        """This case as SGLang's draft-extend V2 runs it (`static_extend_len=True`): every request
        extends the same number of tokens (`width`; by default this case's longest extension clamped
        to 1..8), and each live sequence is at least that long; a graph-bucket padding request keeps its
        seq_len, which the width then exceeds, as in SGLang's padded replays."""
        width = width or min(max(max(self.extend_seq_lens, default=1), 1), STATIC_WIDTHS[-1])
        padding = set(self.padding_requests())
        seq_lens = tuple(kv if b in padding else max(kv, width) for b, kv in enumerate(self.seq_lens))
        max_seqlen_k = max(self.max_seqlen_k, max(seq_lens, default=0))
        return self.with_changes(
            seq_lens=seq_lens,
            extend_seq_lens=(width,) * self.bs,
            max_seqlen_k=max_seqlen_k,
            context_len=max(self.context_len, max_seqlen_k),
            static_extend_len=True,
        )

    def follow_ups(self) -> tuple["ReplayCase", "ReplayCase"]:
        """Two later steps on this case's very tensors and buffers: same batch size, dtypes, pool,
        req_to_token shape and buffers, new values. The first has every sequence halved (a smaller
        max(seq_lens)), other extend lengths and so another total, other pool rows and other
        req_to_token contents; the second is back to this case's lengths (a larger max again), on yet
        other rows and contents. Every step fits the buffers this case allocates; a static-width case
        keeps its width, and padding requests stay padding, as a runner refills them."""
        bs, pool = self.bs, self.pool_size
        slack = self.max_seqlen_k - self.longest
        padding = set(self.padding_requests())
        shorter = tuple(kv if b in padding else (kv + 1) // 2 for b, kv in enumerate(self.seq_lens))
        # Each live request takes the next live request's extend length (so the total is no larger).
        live = [b for b in range(bs) if b not in padding]
        after = {b: live[(i + 1) % len(live)] for i, b in enumerate(live)}
        fewer = tuple(
            self.extend_seq_lens[b] if b in padding else min(self.extend_seq_lens[after[b]], shorter[b]) for b in range(bs)
        )
        if self.static_extend_len:
            # One graph of static width keeps its width: only the sequences change.
            shorter = tuple(
                kv if b in padding else max((kv + 1) // 2, qo) for b, (kv, qo) in enumerate(zip(self.seq_lens, self.extend_seq_lens))
            )
            fewer = self.extend_seq_lens
        first = self.with_changes(
            seq_lens=shorter,
            extend_seq_lens=fewer,
            req_pool_indices=tuple(0 if b in padding else (row + 1) % pool for b, row in enumerate(self.req_pool_indices)),
            req_to_token_seed=self.req_to_token_seed + 1,
        )
        # A case whose max_seqlen_k is below its longest kv length (SGLang's one-column test) keeps it.
        first = first.with_changes(max_seqlen_k=first.longest + slack if slack >= 0 else self.max_seqlen_k)
        second = self.with_changes(
            req_pool_indices=tuple(0 if b in padding else (row + 2) % pool for b, row in enumerate(self.req_pool_indices)),
            req_to_token_seed=self.req_to_token_seed + 2,
        )
        return first, second

    def req_to_token(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """base + rows[r] * context_len + cols[c], for seeded permutations rows and cols: every cell
        distinct, and built in O(pool + context) host work however large the table."""
        generator = torch.Generator().manual_seed(self.req_to_token_seed)
        rows = torch.randperm(self.pool_size, generator=generator, dtype=torch.int32)
        cols = torch.randperm(self.context_len, generator=generator, dtype=torch.int32)
        rows, cols = rows.to(device), cols.to(device)
        table = guarded_full(
            (self.pool_size, self.context_len),
            self.sentinel,
            device=device,
            row_pad=self.req_to_token_row_pad,
            guard=self.guard,
        )
        table.copy_((rows * self.context_len + self.req_to_token_base)[:, None] + cols[None, :])
        return table

    def inputs(self, device: torch.device | str = "cpu") -> tuple[torch.Tensor, ...]:
        """The mode's inputs as its contract takes them, in `input_names()` order (draft-extend's:
        seq_lens, extend_seq_lens, req_pool_indices, req_to_token), each inside a storage with
        `guard` sentinel cells before and after it."""

        def vector(values, stale, dtype):
            whole = values + (stale,) * self.input_spare
            out = guarded_full((len(whole),), self.sentinel, dtype=getattr(torch, dtype), device=device, guard=self.guard)
            out.copy_(torch.tensor(whole, dtype=out.dtype))
            return out[: self.bs]

        # Past bs, a larger earlier batch's live request: the longest sequence, one token, the last
        # pool row. Read by mistake, it changes what the call writes.
        make = {
            "seq_lens": lambda: vector(self.seq_lens, self.max_seqlen_k, self.seq_lens_dtype),
            "extend_seq_lens": lambda: vector(self.extend_seq_lens, 1, self.extend_seq_lens_dtype),
            "req_pool_indices": lambda: vector(self.req_pool_indices, self.pool_size - 1, self.req_pool_indices_dtype),
            "req_to_token": lambda: self.req_to_token(device),
        }
        return tuple(make[name]() for name in self.input_names())

    def named_inputs(self, inputs: tuple[torch.Tensor, ...]) -> dict[str, torch.Tensor]:
        return dict(zip(self.input_names(), inputs, strict=True))

    def buffers(self, device: torch.device | str = "cpu", sentinel: int | None = None) -> MetadataBuffers:
        buffers = MetadataBuffers.allocate(
            max_bs=self.bs + self.spare_requests,
            max_total_tokens=self.total_tokens + self.spare_tokens,
            max_seqlen_k=self.max_seqlen_k + self.spare_cols,
            page_size=self.page_size,
            device=device,
            sentinel=self.sentinel if sentinel is None else sentinel,
            row_pad=self.row_pad,
            guard=self.guard,
            names=self.buffer_names(),
            next_n=self.next_n,
        )
        if self.cu_head_zero:
            buffers.cu_seqlens_k[0] = 0
            buffers.nsa_cu_seqlens_k[0] = 0
        return buffers

    def tight(self) -> "ReplayCase":
        """The same call on buffers and inputs with nothing around them: no spare requests, tokens or
        columns, no row padding, no guard cells, req_to_token exactly max_seqlen_k wide. A read or
        write past what the call may touch then leaves its allocation, for a memory checker to see."""
        return self.with_changes(
            context_len=self.max_seqlen_k,
            input_spare=0,
            req_to_token_row_pad=0,
            spare_requests=0,
            spare_tokens=0,
            spare_cols=0,
            row_pad=0,
            guard=0,
        )

    def options(self) -> dict[str, int]:
        """The host ints a call of this case's mode takes, by keyword, and the engine profile's: the
        padding floor where the mode pads below one, whether page rows stop at the live prefix, the
        KPool size where it pools, and a static width's promise where the caller makes it."""
        options = self.mode.call_options(
            nsa_index_topk=self.nsa_index_topk, page_size=self.page_size, max_seqlen_k=self.max_seqlen_k, next_n=self.next_n
        )
        options.update(self.engine.kernel_options(self.mode.pads_below_one))
        if self.index_kpool != 1:
            options["index_kpool"] = self.index_kpool
        if self.static_extend_len:
            options["static_extend_len"] = True
        return options

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
        """The cells of each buffer that the contract writes (reference.buffers.AXES); every other cell
        must keep its contents."""
        sizes = extents(requests=self.bs, tokens=self.total_tokens, columns=self.max_seqlen_k, page_size=self.page_size, next_n=self.next_n)
        return {name: written_region(name, sizes) for name in AXES}

    def token_requests(self) -> torch.Tensor:
        """Each packed token's request, int64, in packed order."""
        return torch.repeat_interleave(torch.arange(self.bs), torch.tensor(self.extend_seq_lens, dtype=torch.int64))

    def token_kv_lens(self) -> torch.Tensor:
        """Each packed token's request's kv length, int64, in packed order."""
        return torch.tensor(self.kv_lens, dtype=torch.int64)[self.token_requests()]

    def _columns_per_cell(self, name: str) -> int | None:
        """How many page-table columns a cell of buffer `name` stands for: 1 for page_table_1, the
        page size for the real table; None for a buffer that has no tail."""
        if not self.engine.live_prefix or name not in ("page_table_1", "real_page_table"):
            return None
        return 1 if name == "page_table_1" else self.page_size

    def is_tail(self, name: str, token: int, cell: int) -> bool:
        """Whether cell `cell` of written token row `token` of buffer `name` is a tail cell (`tail`)."""
        per_cell = self._columns_per_cell(name)
        return per_cell is not None and cell * per_cell >= self.kv_lens[self.token_owner(token)[0]]

    def tail(self, name: str, shape: tuple[int, ...]) -> torch.Tensor | None:
        """Under a live-prefix profile, the tail cells of page table `name` (a tensor of that shape):
        the written cells of a token row at a column at or past its request's kv length (for the
        real table, a page whose first column is at or past it). A tail cell may keep its old contents
        or hold what the full-width rule writes; every other written cell is defined. None where
        there are none: full-width profiles, every other buffer."""
        per_cell = self._columns_per_cell(name)
        if per_cell is None:
            return None
        columns = -(-self.max_seqlen_k // per_cell)
        first_column = torch.arange(shape[1], dtype=torch.int64) * per_cell
        mask = torch.zeros(shape, dtype=torch.bool)
        tokens = self.total_tokens
        mask[:tokens, :columns] = first_column[None, :columns] >= self.token_kv_lens()[:, None]
        return mask
