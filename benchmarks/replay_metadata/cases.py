"""What a benchmark case is and how it is made: the sweep of cases, their inputs and buffers, the
bytes they make the mode move, and the input sets a graph cycles through."""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import Callable

import torch

from properties.cases import ReplayCase
from properties.harness import on_host
from reference.buffers import MetadataBuffers
from reference.engines import DEFAULT_PROFILE
from reference.modes import DEFAULT_FORWARD_MODE, TARGET_VERIFY, forward_mode

MAX_EXTEND = 4
POOL_SPARE_ROWS = 16
SEED = 0

# Input sets rotate through a graph until they span this many L2 caches, at most MAX_INPUT_SETS.
ROTATION_L2_MULTIPLE = 2
MAX_INPUT_SETS = 8

EXTENDS = ("ragged", "equal")
# Each forward mode's tokens per request: draft-extend's extend lengths ragged in 1..4 or all 4;
# decode's one; target-verify's next_n.
MODE_EXTENDS = {
    "draft-extend": EXTENDS,
    "decode": ("one",),
    "target-verify": tuple(f"next_n={n}" for n in range(1, MAX_EXTEND + 1)),
}
QUICK_EXTENDS = {"draft-extend": ("ragged",), "decode": ("one",), "target-verify": (f"next_n={MAX_EXTEND}",)}
# How the kv lengths of a batch spread below the context: uniform over its upper half; a serving mix,
# log-uniform from SERVING_MIX_LEAST up (most requests short, a few long, as a live server holds
# them); all equal. Request 0 always takes the whole context, so that max_seqlen_k is the batch's own.
LENGTHS = ("half", "serving-mix", "equal")
SERVING_MIX_LEAST = 64


@dataclass(frozen=True)
class Sweep:
    page_sizes: tuple[int, ...]
    contexts: tuple[int, ...]
    batch_sizes: tuple[int, ...]
    extends: tuple[str, ...]
    topk: int = 2048
    forward_mode: str = DEFAULT_FORWARD_MODE
    padded: bool = False  # each batch a captured bucket whose last quarter is padding requests
    lengths: tuple[str, ...] = ("half", "serving-mix")
    profile: str = DEFAULT_PROFILE  # the contract the shipped kernel follows, and the floor's bytes
    page_table_1: bool = True  # False: the real page table alone, as SGLang's fused decode graphs ask
    index_kpools: tuple[int, ...] = (1,)  # KPool sizes of the sparse lengths; past 1, at page size 64 only


FULL_SWEEP = Sweep((1, 64), (8192, 131072), (1, 2, 4, 8, 16, 32, 64, 128, 512, 2048, 4096), EXTENDS)
QUICK_SWEEP = Sweep((1, 64), (8192, 131072), (1, 32, 512, 4096), ("ragged",), lengths=("serving-mix",))


@dataclass
class Case:
    page_size: int
    context: int
    capacity: int
    extend: str
    bs: int
    topk: int
    total_tokens: int
    seq_lens: torch.Tensor
    extend_seq_lens: torch.Tensor
    req_pool_indices: torch.Tensor
    req_to_token: torch.Tensor
    buffers: MetadataBuffers
    host: ReplayCase
    forward_mode: str = DEFAULT_FORWARD_MODE
    next_n: int = 1
    lengths: str = "half"

    def fill(self, fn: Callable[..., None], *, resident: bool = False, **extra) -> None:
        """Call fn on this case; resident=True passes max_seqlen_k=None, the graph-resident mode. A
        calling convention that takes host ints (the total, the longest extension) reads them from
        the case's host values, as the serving engine holds them."""
        with on_host(self.host):
            self.bound(fn, resident=resident, **extra)()

    def bound(self, fn: Callable[..., None], *, resident: bool = False, **extra) -> Callable[[], None]:
        """fn with this case's arguments bound once, as an engine's replay holds them: what a call of
        the shipped kernel costs the host, with nothing of the harness around it (an empty launch is
        timed bare too). Only a variant that reads the host values needs `fill`. Equal extend lengths
        come with the caller's promise (`static_extend_len`) to every fill that declares it, as
        SGLang's draft-extend of static width calls its kernel."""
        tensors = {
            "seq_lens": self.seq_lens,
            "extend_seq_lens": self.extend_seq_lens,
            "req_pool_indices": self.req_pool_indices,
            "req_to_token": self.req_to_token,
        }
        mode = forward_mode(self.forward_mode)
        options = mode.call_options(
            nsa_index_topk=self.topk, page_size=self.page_size, max_seqlen_k=None if resident else self.context, next_n=self.next_n
        )
        if self.host.static_extend_len and getattr(fn, "supports_static_extend_len", False):
            options["static_extend_len"] = True
        if self.host.index_kpool != 1:
            options["index_kpool"] = self.host.index_kpool
        return functools.partial(fn, *(tensors[name] for name in mode.inputs), self.buffers, **options, **extra)

    def copy(self) -> Case:
        """The same inputs and buffers in tensors of their own, at other addresses."""
        return dataclasses.replace(
            self,
            seq_lens=self.seq_lens.clone(),
            extend_seq_lens=self.extend_seq_lens.clone(),
            req_pool_indices=self.req_pool_indices.clone(),
            req_to_token=self.req_to_token.clone(),
            buffers=make_buffers(
                self.bs, self.capacity, self.page_size, self.seq_lens.device, self.forward_mode, self.host.page_table_1_given
            ),
        )


def make_req_to_token(rows: int, columns: int, page_size: int, device: torch.device) -> torch.Tensor:
    """Distinct slots, a page of consecutive slots at a time, the pages in random order."""
    pages_per_row = -(-columns // page_size)
    gen = torch.Generator(device=device).manual_seed(SEED)
    pages = torch.randperm(rows * pages_per_row, generator=gen, device=device).to(torch.int32)
    slots = pages[:, None] * page_size + torch.arange(page_size, dtype=torch.int32, device=device)
    return slots.view(rows, pages_per_row * page_size)[:, :columns].contiguous()


def make_buffers(
    bs: int, capacity: int, page_size: int, device: torch.device, mode_name: str = DEFAULT_FORWARD_MODE, page_table_1: bool = True
) -> MetadataBuffers:
    """The mode's buffers (target-verify's without the optional 2-D schedule lengths; without
    page_table_1 where the caller gives none)."""
    dropped = {"paged_mqa_ctx_lens_2d", *(() if page_table_1 else ("page_table_1",))}
    names = tuple(name for name in forward_mode(mode_name).writes if name not in dropped)
    return MetadataBuffers.allocate(
        max_bs=bs, max_total_tokens=MAX_EXTEND * bs, max_seqlen_k=capacity, page_size=page_size, device=device, names=names
    )


def padding_of(bs: int, padded: bool) -> int:
    """How many of a bucket's bs requests pad it: a quarter, at least one past bs 1."""
    return max(1, bs // 4) if padded and bs > 1 else 0


def draw_seq_lens(lengths: str, context: int, bs: int, gen: torch.Generator) -> torch.Tensor:
    """bs seq_lens of at most `context` spread as LENGTHS says, the first one `context` itself."""
    if lengths == "equal":
        seq_lens = torch.full((bs,), context, dtype=torch.int32)
    elif lengths == "half":
        seq_lens = torch.randint(context // 2, context + 1, (bs,), generator=gen, dtype=torch.int32)
    else:
        least = min(SERVING_MIX_LEAST, context)
        exponent = torch.rand(bs, generator=gen, dtype=torch.float64) * math.log(context / least)
        seq_lens = (least * torch.exp(exponent)).round().clamp(least, context).to(torch.int32)
    seq_lens[:1] = context
    return seq_lens


def make_case(
    page_size: int, context: int, bs: int, extend: str, topk: int, device: torch.device, capacity: int | None = None,
    mode_name: str = DEFAULT_FORWARD_MODE, padded: bool = False, lengths: str = "half", profile: str = DEFAULT_PROFILE,
    page_table_1: bool = True, index_kpool: int = 1,
) -> Case:
    """Draft-extend's extend lengths in 1..MAX_EXTEND (ragged) or all MAX_EXTEND (equal); decode's one
    token and target-verify's next_n (`next_n=N`) per request; kv lengths up to the context, spread as
    `lengths` says (draw_seq_lens); req_to_token and the buffers hold `capacity` columns (default:
    context). With `padded`, the last
    `padding_of(bs)` requests pad a captured bucket as SGLang's runners do: seq_len 1, pool row 0 and,
    for draft-extend, the draft width MAX_EXTEND."""
    capacity = capacity or context
    gen = torch.Generator().manual_seed(SEED)
    next_n = int(extend.removeprefix("next_n=")) if extend.startswith("next_n=") else 1
    if extend == "ragged":
        extend_seq_lens = torch.randint(1, MAX_EXTEND + 1, (bs,), generator=gen, dtype=torch.int32)
    elif extend == "equal":
        extend_seq_lens = torch.full((bs,), MAX_EXTEND, dtype=torch.int32)
    else:
        extend_seq_lens = torch.full((bs,), next_n, dtype=torch.int32)
    # Target-verify's kv length is seq_len + next_n: its seq_lens leave room for the draft.
    room = next_n if mode_name == TARGET_VERIFY.name else 0
    seq_lens = draw_seq_lens(lengths, context - room, bs, gen)
    pool_rows = bs + POOL_SPARE_ROWS
    # Pool row 0 is the runners' reserved row, which only padding requests point at.
    req_pool_indices = 1 + torch.randperm(pool_rows - 1, generator=gen)[:bs]
    pad = padding_of(bs, padded)
    if pad:
        seq_lens[bs - pad :] = 1
        req_pool_indices[bs - pad :] = 0
        if mode_name == "draft-extend":
            extend_seq_lens[bs - pad :] = MAX_EXTEND
    return Case(
        page_size=page_size,
        context=context,
        capacity=capacity,
        extend=extend,
        bs=bs,
        topk=topk,
        total_tokens=int(extend_seq_lens.sum()) if mode_name != "decode" else bs,
        seq_lens=seq_lens.to(device),
        extend_seq_lens=extend_seq_lens.to(device),
        req_pool_indices=req_pool_indices.to(device),
        req_to_token=make_req_to_token(pool_rows, capacity, page_size, device),
        buffers=make_buffers(bs, capacity, page_size, device, mode_name, page_table_1),
        forward_mode=mode_name,
        next_n=next_n,
        lengths=lengths,
        host=ReplayCase(
            forward_mode=mode_name,
            next_n=next_n,
            seq_lens=tuple(seq_lens.tolist()),
            extend_seq_lens=tuple(extend_seq_lens.tolist()),
            req_pool_indices=tuple(req_pool_indices.tolist()),
            pool_size=pool_rows,
            context_len=capacity,
            nsa_index_topk=topk,
            page_size=page_size,
            max_seqlen_k=context,
            static_extend_len=extend == "equal",
            padding=pad,
            profile=profile,
            page_table_1_given=page_table_1,
            index_kpool=index_kpool,
        ),
    )


def page_table_bytes(case: Case) -> int:
    """What the page tables must move under the case's profile: each token's row written and each
    request's row read, every column below max_seqlen_k under full-width and only the live prefix
    (the columns below the request's kv length) under a live-prefix profile; the real page table's
    pages too where page_size > 1, and only those where the caller gives no page_table_1."""
    host = case.host
    live = host.engine.live_prefix
    read = written = 0
    for kv, tokens in zip(host.kv_lens, host.extend_seq_lens):
        if tokens == 0:
            continue
        columns = min(kv, case.context) if live else case.context
        read += columns
        wide = columns if host.page_table_1_given else 0
        written += tokens * (wide + (-(-columns // case.page_size) if case.page_size > 1 else 0))
    return (read + written) * 4


def rotation(nbytes: int) -> int:
    """How many input sets a graph cycles through, so that a set is seldom still in L2 when its turn
    comes again."""
    l2 = torch.cuda.get_device_properties(torch.cuda.current_device()).L2_cache_size
    return max(1, min(MAX_INPUT_SETS, math.ceil(ROTATION_L2_MULTIPLE * l2 / max(nbytes, 1))))


def input_sets(case: Case) -> list[Case]:
    return [case] + [case.copy() for _ in range(rotation(page_table_bytes(case)) - 1)]
