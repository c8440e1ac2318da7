"""Hypothesis strategies for the replay cases of every forward mode: ragged batches, pool indices,
padded buckets, padded buffers.

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

from properties.cases import ReplayCase
from properties.edge_classes import LARGE_BATCH, LONG_CONTEXT, MANY_TOKENS, TRIANGLE_LIMIT, WIDE_BATCH, WIDE_CONTEXT
from reference.domain import EXTEND_LEN, PAGE_SIZE
from reference.engines import KPOOL_PAGE_SIZE, KPOOL_SIZES
from reference.modes import MAX_NEXT_N, TARGET_VERIFY, forward_mode

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
PAGE_SIZES = (PAGE_SIZE.least, 64, 2, 16, 128, PAGE_SIZE.most)
MAX_DRAFT = EXTEND_LEN.most  # the widest draft a case extends by
SENTINELS = (-7, INT32_MIN, INT32_MAX, -123_457)
REGIMES = ("small", "large_batch", "long_context", "wide", "padded_bucket")
# Batch sizes a CUDA-graph runner captures, as SGLang's default list for speculative decoding runs
# them: a replay of bs live requests is padded up to the first bucket that holds it.
CAPTURE_BUCKETS = (1, 2, 4, 8, 12, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512)
SEQ_LEN_FILLS = (1, 0)  # SGLang's DSA backend fills padded seq_lens with 1; other engines with 0


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
    # bs = 0 is an idle batch, which DP attention runs.
    bs = draw(st.integers(0, 8))
    max_kv = draw(st.sampled_from((8, 64, 300, 2100)))
    max_extend = draw(st.integers(1, MAX_DRAFT))
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
    # Past a thousand requests too: decode's tokens are its requests.
    bs = draw(st.one_of(st.integers(LARGE_BATCH, 640), st.integers(MANY_TOKENS, MANY_TOKENS + 64)))
    max_kv = draw(st.integers(1, 96))
    max_extend = draw(st.integers(1, MAX_DRAFT))
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
    # Besides any length, the others may sit on either side of where n(n+1)/2 leaves int32: a kv
    # length past it whose first token's is not (target-verify's seq_lens sit below it).
    other = st.one_of(st.integers(1, LONG_CONTEXT + 4096), st.integers(TRIANGLE_LIMIT - 1, TRIANGLE_LIMIT + 2))
    kv = [draw(st.integers(LONG_CONTEXT, LONG_CONTEXT + 4096))] + draw(st.lists(other, min_size=bs - 1, max_size=bs - 1))
    qo = [draw(st.integers(0, min(8, k))) for k in kv]
    return kv, qo


@st.composite
def padded_bucket_batch(draw) -> tuple[list[int], list[int]]:
    """A replay as SGLang's draft-extend graph runner pads it: the live requests (any number, none
    included), then padding up to the first captured bucket that holds them, each with seq_len 1 (or
    0), the draft width as extend length and pool row 0 (`replay_cases` points them there).
    The live requests extend the width too (static width) or anything up to it (ragged)."""
    width = draw(st.integers(1, MAX_DRAFT))
    # No live request at all is its own branch: an idle data-parallel rank replays padding alone.
    live = draw(st.one_of(st.just(0), st.integers(1, 8), st.integers(9, CAPTURE_BUCKETS[-1] - 1)))
    # The first bucket past the live requests: at least one padding request, as in any padded replay.
    bucket = next(b for b in CAPTURE_BUCKETS if b > live)
    fill = draw(st.sampled_from(SEQ_LEN_FILLS))
    generator = _seeded(draw)
    kv = _uniform(generator, width, draw(st.sampled_from((width + 8, 300, 4096))), live)
    if draw(st.booleans()):
        qo = torch.full((live,), width, dtype=torch.int64)
    else:
        qo = _uniform(generator, 0, width, live)
    pad = bucket - live
    return kv.tolist() + [fill] * pad, qo.tolist() + [width] * pad, pad


@st.composite
def nsa_index_topk(draw, expanded: list[int], longest: int) -> int:
    """topk placed where clipping is interesting: below every length, exactly on one, past every
    one (nothing clipped), past where a closed-form sum of lengths leaves int32, or anywhere."""
    # Padding rows of floor 0 expand to 0, which is no top-k.
    straddles = [v for v, w in zip(expanded, expanded[1:]) if w == v + 1 and v >= 1]
    mode = draw(st.sampled_from(("any", "below_all", "straddle", "above_all", "past_triangle", "deepseek")))
    if mode == "below_all" and expanded and min(expanded) > 1:
        return draw(st.integers(1, min(expanded) - 1))
    if mode == "above_all":
        return draw(st.integers(max(1, longest), longest + 2))
    if mode == "past_triangle" and longest > TRIANGLE_LIMIT:
        return draw(st.integers(TRIANGLE_LIMIT + 1, longest + 2))
    if mode == "straddle" and straddles:
        return draw(st.sampled_from(straddles))
    if mode == "deepseek":
        return 2048
    return draw(st.integers(1, longest + 2))


@st.composite
def kpool_and_topk(draw, page_size: int, topk: int) -> tuple[int, int]:
    """(top-k, KPool size): at page size 64 any KPool size engines use, the top-k moved to a multiple
    of it (as KPool requires); elsewhere no pooling."""
    if page_size != KPOOL_PAGE_SIZE:
        return topk, 1
    index_kpool = draw(st.sampled_from(KPOOL_SIZES))
    return max(index_kpool, topk // index_kpool * index_kpool), index_kpool


@st.composite
def req_pool_indices(draw, bs: int) -> tuple[int, list[int]]:
    """(pool size, one row per request): a permutation of distinct rows, or rows drawn with repeats."""
    pool_size = max(1, bs + draw(st.integers(0, min(bs, 8) + 2)))
    generator = _seeded(draw)
    if draw(st.booleans()):
        return pool_size, torch.randperm(pool_size, generator=generator)[:bs].tolist()
    return pool_size, torch.randint(pool_size, (bs,), generator=generator).tolist()


def _next_n(draw, mode_name: str, regime: str, extend_seq_lens: list[int]) -> int:
    """Target-verify's draft tokens per request: 1..MAX_NEXT_N, few in the wide regime (hundreds of requests
    over thousands of columns), at most the drawn extension where the batch was sized for it."""
    if mode_name != TARGET_VERIFY.name:
        return 1
    if regime == "wide":
        return draw(st.integers(1, 2))
    if regime in ("whole_range", "padded_bucket"):
        return draw(st.integers(1, max(1, max(extend_seq_lens, default=1))))
    return draw(st.integers(1, MAX_NEXT_N))


@st.composite
def replay_cases(draw, mode_name: str, regimes: tuple[str, ...] = REGIMES) -> ReplayCase:
    """Any valid case of forward mode `mode_name`'s contract, padded buffers and strided tables
    included. Decode and target-verify draw the same batches as draft-extend, whose extend lengths
    they do not have (each request's tokens follow from the mode)."""
    forward_mode(mode_name)
    regime = draw(st.sampled_from(regimes))
    batch = {
        "small": small_batch,
        "large_batch": large_batch,
        "long_context": long_context_batch,
        "wide": wide_batch,
        "padded_bucket": padded_bucket_batch,
        "whole_range": whole_range_batch,
    }[regime]
    seq_lens, extend_seq_lens, *padded = draw(batch())
    padding = padded[0] if padded else 0
    bs = len(seq_lens)
    shape = ReplayCase(
        seq_lens=tuple(seq_lens),
        extend_seq_lens=tuple(extend_seq_lens),
        req_pool_indices=(0,) * bs,
        pool_size=1,
        context_len=0,
        nsa_index_topk=1,
        page_size=1,
        max_seqlen_k=0,
        forward_mode=mode_name,
        next_n=_next_n(draw, mode_name, regime, extend_seq_lens),
        padding=padding,
    )
    max_seqlen_k = shape.longest + draw(st.sampled_from((0, 1, 63, 300)))
    context_len = max_seqlen_k + draw(st.integers(0, 5))
    pool_size, pool_rows = draw(req_pool_indices(bs))
    # Padding requests point at the reserved pool row 0, as the runner's req_pool_indices.zero_().
    padding_requests = set(shape.padding_requests())
    pool_rows = [0 if b in padding_requests else row for b, row in enumerate(pool_rows)]
    cells = pool_size * context_len
    base = draw(st.sampled_from((0, -(cells // 2), INT32_MAX - cells, INT32_MIN)))
    dtype = st.sampled_from(("int32", "int64"))
    page_size = draw(st.sampled_from(PAGE_SIZES))
    topk, index_kpool = draw(kpool_and_topk(page_size, draw(nsa_index_topk(shape.expanded(), shape.longest))))
    return shape.with_changes(
        req_pool_indices=tuple(pool_rows),
        pool_size=pool_size,
        context_len=context_len,
        nsa_index_topk=topk,
        index_kpool=index_kpool,
        # The real table alone, as SGLang's fused decode graphs ask where page_size > 1; a profile
        # or a variant that cannot omit page_table_1 gives it back (harness.judged_case).
        page_table_1_given=page_size == 1 or draw(st.booleans()),
        page_size=page_size,
        max_seqlen_k=max_seqlen_k,
        ctx_lens_2d=mode_name == TARGET_VERIFY.name and draw(st.booleans()),
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
        input_spare=draw(st.sampled_from((0, 0, 3, 64))),
    )


def _kv_past_seq_len(case: ReplayCase) -> int:
    """How far a request's kv length lies past its seq_len in the case's mode."""
    return case.next_n if case.forward_mode == TARGET_VERIFY.name else 0


@dataclass(frozen=True)
class GraphSession:
    """Steps replayed through one captured graph: same batch size, dtypes and buffers, new values.

    The buffers are sized once, for the largest step the session allows (bs * max_extend tokens),
    as CUDA-graph buffers are; each step's lengths, pool rows and req_to_token contents differ.
    """

    steps: tuple[ReplayCase, ...]
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
        width = max(steps[0].extend_seq_lens, default=1)
        steps = tuple(step.static_width(width) for step in steps)
        columns = max(step.max_seqlen_k for step in steps)
        context = max(step.context_len for step in steps)
        steps = tuple(step.with_changes(max_seqlen_k=columns, context_len=context) for step in steps)
        return GraphSession(steps, max(width, self.max_extend), columns)


@st.composite
def graph_sessions(draw, mode_name: str, max_bs: int = 64, steps: int = 6, whole_range: bool = False) -> GraphSession:
    """Steps of one captured graph of forward mode `mode_name`. With `whole_range` the first step may
    be any case of `whole_range_cases` (bs to 4096, contexts to 128k), which only a GPU affords."""
    first = draw(whole_range_cases(mode_name) if whole_range and draw(st.booleans()) else replay_cases(mode_name, ("small", "large_batch")))
    max_bs = max(max_bs, first.bs) if whole_range else max_bs
    first = first.with_changes(
        seq_lens=first.seq_lens[:max_bs],
        extend_seq_lens=first.extend_seq_lens[:max_bs],
        req_pool_indices=tuple(i % first.pool_size for i in first.req_pool_indices[:max_bs]),
    )
    max_extend = max(1, max(first.extend_seq_lens, default=1))
    # Target-verify's kv lengths are seq_lens + next_n: the later steps' must fit the same columns.
    bs, limit = first.bs, max(first.max_seqlen_k - _kv_past_seq_len(first), 0)
    later = []
    for _ in range(steps - 1):
        # A first step whose every request is empty (max_seqlen_k 0) leaves only empty ones after it.
        generator = _seeded(draw)
        kv = _uniform(generator, min(1, limit), limit, bs)
        qo = _uniform(generator, 0, kv.clamp(max=max_extend), bs).tolist()
        kv = kv.tolist()
        rows = torch.randint(first.pool_size, (bs,), generator=generator).tolist()
        later.append(
            first.with_changes(
                seq_lens=tuple(kv),
                extend_seq_lens=tuple(qo),
                req_pool_indices=tuple(rows),
                req_to_token_seed=draw(st.integers(0, 2**32 - 1)),
            )
        )
    return GraphSession((first, *later), max_extend, first.max_seqlen_k)


# Page-table cells (tokens x max_seqlen_k) a whole-range case may fill: 256 MB of int32, so bs 4096
# and 128k contexts both come, though not in one case.
WHOLE_RANGE_CELLS = 1 << 26
MAX_WHOLE_BS = 4096
MAX_WHOLE_CONTEXT = 131_072


@st.composite
def whole_range_batch(draw) -> tuple[list[int], list[int]]:
    """Any batch size 1..4096 and any context up to 128k within WHOLE_RANGE_CELLS, drawn from its
    shape, so that Hypothesis shrinks bs and the context directly (a defect that shows only past
    some size shrinks to just past it); its tail may be bucket padding."""
    bs = draw(st.integers(1, MAX_WHOLE_BS))
    max_extend = draw(st.integers(1, MAX_DRAFT))
    max_kv = draw(st.integers(max_extend, max(max_extend, min(MAX_WHOLE_CONTEXT, WHOLE_RANGE_CELLS // (bs * max_extend)))))
    padding = draw(st.sampled_from((0, 0, 1, bs // 2)))
    padding = padding if padding < bs else 0
    generator = _seeded(draw)
    kv = _uniform(generator, 1, max_kv, bs)
    kv[0] = max_kv
    qo = _uniform(generator, 0, kv.clamp(max=max_extend), bs)
    if padding:
        kv[bs - padding :] = draw(st.sampled_from(SEQ_LEN_FILLS))
        qo[bs - padding :] = max_extend
    qo[0] = max_extend  # so that target-verify may draw next_n up to it and stay within the cells
    return kv.tolist(), qo.tolist(), padding


def whole_range_cases(mode_name: str) -> st.SearchStrategy[ReplayCase]:
    """Cases over the whole range the engine sends: bs 1..4096, contexts to 128k, both index dtypes,
    every page size, padded buckets. For the GPU rows (no host sync, graph capture), whose defects
    may show only past some size."""
    return replay_cases(mode_name, ("whole_range",))


@st.composite
def engine_sessions(draw, mode_name: str, steps: int = 5) -> GraphSession:
    """One captured bucket of an SGLang graph runner of forward mode `mode_name`, replayed step after step.

    The capture runs on the runner's fill values (every request padding: seq_len 1 or 0, pool row 0,
    the draft width); each replay writes its live requests into the first entries of the same
    tensors and pads the rest in place, as the runner's `fill_` and `zero_` do, with a number of
    live requests that changes from step to step (none, all, any). max_seqlen_k is the bucket's
    column capacity throughout, as a captured host-sized call has it baked in; the graph-resident
    mode reads it from each step's lengths instead.
    """
    bucket = draw(st.sampled_from(CAPTURE_BUCKETS[:12] + (256, 512)))
    width = draw(st.integers(1, MAX_DRAFT))
    static = draw(st.booleans())
    fill = draw(st.sampled_from(SEQ_LEN_FILLS))
    columns = draw(st.sampled_from((width + 8, 300, 4096)))
    pool_size = bucket + draw(st.integers(1, 8))
    template = draw(replay_cases(mode_name, ("small",)))
    # Target-verify's draft is the bucket's width, and its kv lengths seq_lens + width fit the columns.
    if template.forward_mode == TARGET_VERIFY.name:
        template = template.with_changes(next_n=width)
    extra = _kv_past_seq_len(template)
    generator = _seeded(draw)

    def step(live: int) -> ReplayCase:
        kv = _uniform(generator, width, columns - extra, live)
        qo = torch.full((live,), width, dtype=torch.int64) if static else _uniform(generator, 0, width, live)
        rows = (1 + torch.randperm(pool_size - 1, generator=generator)[:live]).tolist()
        pad = bucket - live
        return template.with_changes(
            seq_lens=tuple(kv.tolist()) + (fill,) * pad,
            extend_seq_lens=tuple(qo.tolist()) + (width,) * pad,
            req_pool_indices=tuple(rows) + (0,) * pad,
            pool_size=pool_size,
            context_len=columns + 3,
            max_seqlen_k=columns,
            req_to_token_seed=int(torch.randint(2**31, (), generator=generator)),
            padding=pad,
        )

    lives = [0] + [draw(st.sampled_from((0, 1, bucket, draw(st.integers(0, bucket))))) for _ in range(steps - 1)]
    return GraphSession(tuple(step(live) for live in lives), width, columns)
