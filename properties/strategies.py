"""Hypothesis strategies for draft-extend cases: ragged batches, pool indices, padded buffers.

Four regimes share one case type. Small batches are drawn request by request, so Hypothesis shrinks
them to the fewest, shortest requests; large batches (above every batch-axis block size), long
contexts (>= 65,536 tokens) and wide ones (hundreds of requests over thousands of columns) are
drawn from a few shape parameters and a seed, so that a case of hundreds of requests stays cheap to
generate while its shape still shrinks.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from hypothesis import strategies as st

from properties.cases import LARGE_BATCH, LONG_CONTEXT, TRIANGLE_LIMIT, WIDE_BATCH, WIDE_CONTEXT, DraftExtendCase

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
PAGE_SIZES = (1, 64, 2, 16, 128)
SENTINELS = (-7, INT32_MIN, INT32_MAX, -123_457)
REGIMES = ("small", "large_batch", "long_context", "wide")


@st.composite
def small_request(draw, max_kv: int, max_extend: int) -> tuple[int, int]:
    """(kv_len, qo_len) of one request, with the lengths that matter most drawn on purpose."""
    kind = draw(st.sampled_from(("ragged", "decode", "fresh", "idle")))
    if kind == "fresh":
        kv = draw(st.integers(1, min(max_kv, max_extend)))
        return kv, kv
    kv = draw(st.integers(0 if kind == "idle" else 1, max_kv))
    if kind == "idle":
        return kv, 0
    if kind == "decode":
        return kv, 1
    return kv, draw(st.integers(0, min(kv, max_extend)))


@st.composite
def small_batch(draw) -> tuple[list[int], list[int]]:
    bs = draw(st.integers(1, 8))
    max_kv = draw(st.sampled_from((8, 64, 300, 2100)))
    max_extend = draw(st.integers(1, 8))
    if draw(st.booleans()):
        kv = draw(st.lists(st.integers(1, max_kv), min_size=bs, max_size=bs))
        return kv, [1] * bs
    pairs = draw(st.lists(small_request(max_kv, max_extend), min_size=bs, max_size=bs))
    return [kv for kv, _ in pairs], [qo for _, qo in pairs]


def _seeded(draw) -> torch.Generator:
    """A generator for the per-request values of a large case: drawn as one seed, so a case of
    hundreds of requests costs Hypothesis one draw, and built with vector ops."""
    return torch.Generator().manual_seed(draw(st.integers(0, 2**32 - 1)))


def _uniform(generator: torch.Generator, low: int, high: torch.Tensor | int, n: int) -> torch.Tensor:
    """n integers, each uniform in [low, high] (high may differ per element)."""
    span = torch.as_tensor(high, dtype=torch.int64) - low + 1
    return low + (torch.rand(n, generator=generator, dtype=torch.float64) * span).to(torch.int64)


@st.composite
def large_batch(draw) -> tuple[list[int], list[int]]:
    bs = draw(st.integers(LARGE_BATCH, 640))
    max_kv = draw(st.integers(1, 96))
    max_extend = draw(st.integers(1, 8))
    idle_share = draw(st.sampled_from((0.0, 0.1, 0.5)))
    decode_like = draw(st.booleans())
    generator = _seeded(draw)
    kv = _uniform(generator, 1, max_kv, bs)
    if decode_like:
        return kv.tolist(), [1] * bs
    qo = _uniform(generator, 0, kv.clamp(max=max_extend), bs)
    qo[torch.rand(bs, generator=generator, dtype=torch.float64) < idle_share] = 0
    return kv.tolist(), qo.tolist()


@st.composite
def wide_batch(draw) -> tuple[list[int], list[int]]:
    """Hundreds of requests over thousands of columns, with few tokens each to keep it affordable."""
    bs = draw(st.integers(WIDE_BATCH, WIDE_BATCH + 64))
    max_kv = draw(st.integers(WIDE_CONTEXT, WIDE_CONTEXT + 4096))
    generator = _seeded(draw)
    kv = _uniform(generator, 1, max_kv, bs)
    kv[int(torch.randint(bs, (), generator=generator))] = max_kv
    qo = torch.minimum(torch.tensor((0, 0, 1, 2))[torch.randint(4, (bs,), generator=generator)], kv)
    return kv.tolist(), qo.tolist()


@st.composite
def long_context_batch(draw) -> tuple[list[int], list[int]]:
    bs = draw(st.integers(1, 3))
    # Besides any length, the others may sit just past where n(n+1)/2 leaves int32.
    other = st.one_of(st.integers(1, LONG_CONTEXT + 4096), st.integers(TRIANGLE_LIMIT + 1, TRIANGLE_LIMIT + 8))
    kv = [draw(st.integers(LONG_CONTEXT, LONG_CONTEXT + 4096))] + draw(st.lists(other, min_size=bs - 1, max_size=bs - 1))
    qo = [draw(st.integers(0, min(8, k))) for k in kv]
    return kv, qo


@st.composite
def nsa_index_topk(draw, seq_lens: list[int], extend_seq_lens: list[int]) -> int:
    """topk placed where clipping is interesting: below every length, exactly on one, or anywhere."""
    expanded = [kv - qo + 1 + j for kv, qo in zip(seq_lens, extend_seq_lens) for j in range(qo)]
    straddles = [v for v, w in zip(expanded, expanded[1:]) if w == v + 1]
    mode = draw(st.sampled_from(("any", "below_all", "straddle", "deepseek")))
    if mode == "below_all" and expanded and min(expanded) > 1:
        return draw(st.integers(1, min(expanded) - 1))
    if mode == "straddle" and straddles:
        return draw(st.sampled_from(straddles))
    if mode == "deepseek":
        return 2048
    return draw(st.integers(1, max(seq_lens) + 2))


@st.composite
def req_pool_indices(draw, bs: int) -> tuple[int, list[int]]:
    """(pool size, one row per request): a permutation of distinct rows, or rows drawn with repeats."""
    pool_size = bs + draw(st.integers(0, min(bs, 8) + 2))
    generator = _seeded(draw)
    if draw(st.booleans()):
        return pool_size, torch.randperm(pool_size, generator=generator)[:bs].tolist()
    return pool_size, torch.randint(pool_size, (bs,), generator=generator).tolist()


@st.composite
def draft_extend_cases(draw, regimes: tuple[str, ...] = REGIMES) -> DraftExtendCase:
    """Any valid case of the contract, padded buffers and strided tables included."""
    regime = draw(st.sampled_from(regimes))
    batch = {"small": small_batch, "large_batch": large_batch, "long_context": long_context_batch, "wide": wide_batch}[
        regime
    ]
    seq_lens, extend_seq_lens = draw(batch())
    bs = len(seq_lens)
    max_seqlen_k = max(seq_lens) + draw(st.sampled_from((0, 1, 63, 300)))
    context_len = max_seqlen_k + draw(st.integers(0, 5))
    pool_size, pool_rows = draw(req_pool_indices(bs))
    cells = pool_size * context_len
    base = draw(st.sampled_from((0, -(cells // 2), INT32_MAX - cells, INT32_MIN)))
    dtype = st.sampled_from(("int32", "int64"))
    return DraftExtendCase(
        seq_lens=tuple(seq_lens),
        extend_seq_lens=tuple(extend_seq_lens),
        req_pool_indices=tuple(pool_rows),
        pool_size=pool_size,
        context_len=context_len,
        nsa_index_topk=draw(nsa_index_topk(seq_lens, extend_seq_lens)),
        page_size=draw(st.sampled_from(PAGE_SIZES)),
        max_seqlen_k=max_seqlen_k,
        seq_lens_dtype=draw(dtype),
        extend_seq_lens_dtype=draw(dtype),
        req_pool_indices_dtype=draw(dtype),
        req_to_token_seed=draw(st.integers(0, 2**32 - 1)),
        req_to_token_base=base,
        req_to_token_row_pad=draw(st.integers(0, 3)),
        spare_requests=draw(st.integers(0, 3)),
        spare_tokens=draw(st.integers(0, 5)),
        spare_cols=draw(st.sampled_from((0, 1, 70))),
        row_pad=draw(st.integers(0, 9)),
        sentinel=draw(st.sampled_from(SENTINELS)),
    )


@dataclass(frozen=True)
class GraphSession:
    """Steps replayed through one captured graph: same batch size, dtypes and buffers, new values.

    The buffers are sized once, for the largest step the session allows (bs * max_extend tokens),
    as CUDA-graph buffers are; each step's lengths, pool rows and req_to_token contents differ.
    """

    steps: tuple[DraftExtendCase, ...]
    max_extend: int
    columns: int  # the buffers' width for max_seqlen_k, whatever each step's is

    def buffers(self, device):
        first = self.steps[0]
        return first.with_changes(extend_seq_lens=(self.max_extend,) * first.bs, max_seqlen_k=self.columns).buffers(device)

    def adapted(self, adapt) -> "GraphSession":
        """The session with every step read through a mode's `adapt`. Static-width steps all take the
        first step's width and one max_seqlen_k, as one captured graph of SGLang's draft-extend V2 has."""
        steps = tuple(adapt(step) for step in self.steps)
        if not steps[0].static_extend_len:
            return GraphSession(steps, self.max_extend, self.columns)
        width = steps[0].extend_seq_lens[0]
        steps = tuple(step.static_width(width) for step in steps)
        columns = max(step.max_seqlen_k for step in steps)
        context = max(step.context_len for step in steps)
        steps = tuple(step.with_changes(max_seqlen_k=columns, context_len=context) for step in steps)
        return GraphSession(steps, max(width, self.max_extend), columns)


@st.composite
def graph_sessions(draw, max_bs: int = 64, steps: int = 6) -> GraphSession:
    first = draw(draft_extend_cases(regimes=("small", "large_batch")))
    first = first.with_changes(
        seq_lens=first.seq_lens[:max_bs],
        extend_seq_lens=first.extend_seq_lens[:max_bs],
        req_pool_indices=tuple(i % first.pool_size for i in first.req_pool_indices[:max_bs]),
    )
    max_extend = max(1, max(first.extend_seq_lens))
    bs, limit = first.bs, first.max_seqlen_k
    later = []
    for _ in range(steps - 1):
        # A first step whose every request is empty (max_seqlen_k 0) leaves only empty ones after it.
        kv = draw(st.lists(st.integers(min(1, limit), limit), min_size=bs, max_size=bs))
        qo = [draw(st.integers(0, min(k, max_extend))) for k in kv]
        rows = draw(st.lists(st.integers(0, first.pool_size - 1), min_size=bs, max_size=bs))
        later.append(
            first.with_changes(
                seq_lens=tuple(kv),
                extend_seq_lens=tuple(qo),
                req_pool_indices=tuple(rows),
                req_to_token_seed=draw(st.integers(0, 2**32 - 1)),
            )
        )
    return GraphSession((first, *later), max_extend, first.max_seqlen_k)
