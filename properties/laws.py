"""The value laws: each a law of what any implementation of the contract writes, and leaves
alone, on any valid case.

`differential` compares with the reference on every cell. The oracle-free laws state what the
buffers must hold without consulting the reference, so a defect shared by the reference and the
implementation under test (or a reference that drifted) is still caught, and a failure names the
law broken rather than just a cell. Each law raises `LawBroken` (properties.failures) with a
readable account. The laws of a GPU's runtime (host sync, graph capture, streams) are
properties.runtime_laws.
"""

from __future__ import annotations

import torch

from properties.cases import ReplayCase
from properties.compare import compare, describe_outside_view, report
from properties.failures import Failure, first_line, require
from properties.faults import ContextLost, CudaFault, guarded
from properties.harness import Contract, on_host, run, run_reference
from reference.buffers import MetadataBuffers, outside_view_mask, whole_storage
from reference.eager import FILLS, compute_nsa_seqlens
from reference.modes import DRAFT_EXTEND, FORWARD_MODES


def only_in(*modes: str):
    """Marks a law as one of these forward modes alone; every other law holds in every mode."""

    def mark(law):
        law.forward_modes = modes
        return law

    return mark


def laws_of(laws, mode_name: str) -> tuple:
    """The laws of `laws` that hold in the forward mode."""
    return tuple(law for law in laws if mode_name in getattr(law, "forward_modes", FORWARD_MODES))

def first_broken_law(fill, case: ReplayCase, device: torch.device, laws, *, variant=None, launch: str = "host_sized") -> Failure | None:
    """The first of `laws` that `fill` breaks on `case`, or None when it obeys them all. A sticky
    CUDA fault is the failure of the case that raised it; once the process has one, the laws of
    any other case are not run (properties.faults). `variant` and `launch` name what a fault's
    reproducer reruns."""
    for law in laws:
        try:
            judge(law, fill, case, device, variant=variant, launch=launch)
        except ContextLost:
            continue
        except CudaFault as fault:
            return Failure(case, law.__name__, str(fault), fault=fault.fault)
        except Exception as error:  # a crash of the variant is a failure like any other
            words = f"{type(error).__name__}: {error}" if str(error).strip() else first_line(error)
            return Failure(case, law.__name__, words)
    return None


def judge(law, fill, case: ReplayCase, device: torch.device, *, variant=None, launch: str = "host_sized") -> None:
    """`law` on `case`, guarded: CudaFault where the call raises the process's first sticky fault,
    ContextLost for every other case after it (properties.faults.guarded)."""
    spec, convention = (variant.spec, variant.convention) if variant is not None else (None, "contract")
    guarded(lambda: law(fill, case, device), case, law=law.__name__, spec=spec, convention=convention, launch=launch)


def judge_in_test(law, fill, case: ReplayCase, device: torch.device, *, variant=None, launch: str = "host_sized") -> None:
    """`judge` inside a Hypothesis test: a case after the process's fault is rejected, neither
    shrunk to nor reported, so the test keeps the case that raised it."""
    from hypothesis import reject

    try:
        judge(law, fill, case, device, variant=variant, launch=launch)
    except ContextLost:
        reject()


def differential(fill: Contract, case: ReplayCase, device: torch.device) -> None:
    """Every cell of every buffer, padding included, equals the reference's (torch.equal); under a
    live-prefix profile a tail cell equals it or keeps its old contents."""
    expected = run_reference(case, device).after
    r = run(fill, case, device)
    mismatches = compare(case, expected, r.after, r.before)
    require(not mismatches, "differs from the reference:\n" + report(mismatches))


def padding_untouched(fill: Contract, case: ReplayCase, device: torch.device) -> None:
    """Cells outside what the contract writes keep their old contents: rows past the total, columns
    past max_seqlen_k (pages past ceil(max_seqlen_k/page_size)), entries past bs, element 0 of both
    cu buffers."""
    r = run(fill, case, device)
    written = case.written_region()
    for name, before in r.before.named().items():
        after = getattr(r.after, name).clone()
        after[written[name]] = before[written[name]]
        changed = int((after != before).sum())
        require(changed == 0, f"{name}: {changed} cell(s) outside the written region changed")


def cache_seqlens_are_kv_lengths(fill: Contract, case: ReplayCase, device: torch.device) -> None:
    """cache_seqlens_int32[b] is request b's kv length: seq_lens[b], plus next_n for target-verify."""
    r = run(fill, case, device)
    got = r.after.cache_seqlens_int32[: case.bs].cpu().tolist()
    require(got == list(case.kv_lens), f"cache_seqlens_int32[:bs] = {got}, kv lengths = {list(case.kv_lens)}")


@only_in("target-verify")
def ctx_lens_are_kv_lengths(fill: Contract, case: ReplayCase, device: torch.device) -> None:
    """Where the caller gives paged_mqa_ctx_lens_2d, its row b holds request b's kv length at every
    one of the next_n draft positions."""
    if not case.ctx_lens_2d:
        return
    r = run(fill, case, device)
    got = r.after.paged_mqa_ctx_lens_2d[: case.bs, : case.next_n].cpu()
    want = torch.tensor(case.kv_lens, dtype=torch.int32).view(-1, 1).expand(-1, case.next_n)
    bad = torch.nonzero(got != want).tolist()
    require(not bad, f"paged_mqa_ctx_lens_2d{bad[0] if bad else ''}: {len(bad)} cell(s) are not their request's kv length")


def cu_buffers_are_prefix_sums(fill: Contract, case: ReplayCase, device: torch.device) -> None:
    """cu_seqlens_k[1:bs+1] is the running sum of cache_seqlens_int32[:bs], and nsa_cu_seqlens_k[1:1+total]
    the running sum of nsa_cache_seqlens_int32[:total], both as int32."""
    r = run(fill, case, device)
    bs, total = case.bs, case.total_tokens
    pairs = (
        ("cu_seqlens_k", r.after.cu_seqlens_k[1 : bs + 1], r.after.cache_seqlens_int32[:bs]),
        ("nsa_cu_seqlens_k", r.after.nsa_cu_seqlens_k[1 : 1 + total], r.after.nsa_cache_seqlens_int32[:total]),
    )
    for name, cu, lengths in pairs:
        running = torch.cumsum(lengths.cpu().to(torch.int64), 0)
        wrapped = (running + 2**31).remainder(2**32) - 2**31
        require(
            torch.equal(cu.cpu().to(torch.int64), wrapped),
            f"{name} is not the prefix sum of its lengths: {cu.cpu().tolist()[:12]} vs {wrapped.tolist()[:12]}",
        )


def expanded_lengths_count_up_to_seq_len(fill: Contract, case: ReplayCase, device: torch.device) -> None:
    """Within request b's tokens the expanded lengths rise by one and end at its kv length (seq_lens[b],
    plus next_n for target-verify; decode's one token per request has cache_seqlens as its length);
    a request of qo <= kv tokens thus starts at kv - qo + 1. Every length at or below the mode's floor
    is the floor: a draft-extend graph-bucket padding request (qo > kv) starts with qo - kv + 1
    lengths at the profile's floor (1: qo - kv + 1 of them, qo - kv for kv = 0; 0: qo - kv of them) and
    ends at max(seq_lens[b], floor); a decode request of seq_len 0 has the one length 0."""
    r = run(fill, case, device)
    total, floor = case.total_tokens, case.floor
    if total == 0:
        return
    # Judged for every token at once (a bs-4096 case has 16k tokens); the account names the first
    # request that breaks it, as a person would check them one by one.
    expanded = r.after.token_lengths()[:total].cpu().to(torch.int64)
    qo = torch.tensor(case.extend_seq_lens, dtype=torch.int64)
    kv = torch.tensor(case.kv_lens, dtype=torch.int64)
    owner = case.token_requests()
    ends = torch.cumsum(qo, 0)
    step = torch.arange(total) - (ends - qo)[owner]
    at_floor = (floor - kv + qo).clamp(min=0).minimum(qo)
    last = ends[qo > 0] - 1
    bad_end = torch.zeros(case.bs, dtype=torch.bool)
    bad_end[owner[last]] = expanded[last] != kv[owner[last]].clamp(min=floor)
    bad_start = _per_request(case.bs, owner, (step < at_floor[owner]) & (expanded != floor))
    rises = step >= at_floor[owner].clamp(min=1)
    rise_bad = rises.clone()
    rise_bad[rises] = expanded[rises] - expanded[rises.nonzero().flatten() - 1] != 1
    bad_rise = _per_request(case.bs, owner, rise_bad)
    broken = (bad_end | bad_start | bad_rise).nonzero().flatten().tolist()
    if not broken:
        return
    b = broken[0]
    start, end = case.segments()[b]
    seg, k, q, n = expanded[start:end].tolist(), case.kv_lens[b], case.extend_seq_lens[b], int(at_floor[b])
    require(not bad_end[b], f"request {b}: last expanded length {seg[-1]} != its kv length {max(k, floor)}")
    require(not bad_start[b], f"request {b} (qo={q}, kv={k}): expanded lengths {seg} do not start with {n} lengths of {floor}")
    require(False, f"request {b}: expanded lengths {seg} do not rise by one")


def _per_request(bs: int, owner: torch.Tensor, token_bad: torch.Tensor) -> torch.Tensor:
    """Whether any token of each request is bad."""
    return torch.zeros(bs, dtype=torch.int64).index_add_(0, owner, token_bad.to(torch.int64)) > 0


def no_length_below_floor(fill: Contract, case: ReplayCase, device: torch.device) -> None:
    """No expanded and no clipped length is below the engine profile's floor, padding requests
    included: 1 under sglang-dsv4 and full-width, 0 under sglang-dsa, whose consumers read lengths as
    uint32 with 0 an empty row, so a negative length reads out of bounds. (Decode keeps a seq_len of 0
    as it is, as SGLang's decode branch does.)"""
    r = run(fill, case, device)
    total = case.total_tokens
    for name in ("nsa_seqlens_expanded", "nsa_cache_seqlens_int32"):
        if getattr(r.after, name) is None:
            continue
        values = getattr(r.after, name)[:total].cpu()
        bad = torch.nonzero(values < case.floor).flatten().tolist()
        require(not bad, f"{name}: tokens {bad[:8]} hold lengths {values[bad[:8]].tolist()}, below {case.profile}'s floor {case.floor}")


def clipped_is_sparse_length(fill: Contract, case: ReplayCase, device: torch.device) -> None:
    """nsa_cache_seqlens_int32[t] is the sparse length of nsa_seqlens_expanded[t] (decode:
    cache_seqlens_int32[b]): min(length, nsa_index_topk), or with KPool k, min(length // k * k, topk)
    + length % k."""
    r = run(fill, case, device)
    total = case.total_tokens
    expanded = r.after.token_lengths()[:total].cpu()
    clipped = r.after.nsa_cache_seqlens_int32[:total].cpu()
    want = compute_nsa_seqlens(expanded, case.nsa_index_topk, case.index_kpool)
    bad = torch.nonzero(clipped != want).flatten().tolist()
    rule = "min(expanded, topk)" if case.index_kpool == 1 else f"the KPool-{case.index_kpool} sparse length"
    require(not bad, f"tokens {bad[:8]}: clipped {clipped[bad[:8]].tolist()} != {rule} {want[bad[:8]].tolist()}")


# Token rows of a page table compared at once, at most this many cells (of each of three tables) at a time.
ROWS_CHUNK_CELLS = 1 << 24


def page_rows_are_request_rows(fill: Contract, case: ReplayCase, device: torch.device) -> None:
    """page_table_1[t, :max_seqlen_k] is req_to_token[req_pool_indices[b], :max_seqlen_k] for every
    token t of request b; for page_size > 1, real_page_table[t, p] is that row's column p*page_size
    floor-divided by page_size, for every page p < ceil(max_seqlen_k / page_size). Under a live-prefix
    profile that holds below the request's kv length (pages that start below it); past it each cell
    holds that value or its old contents. A caller without page_table_1 gets the real table alone."""
    r = run(fill, case, device)
    total = case.total_tokens
    if total == 0:
        return
    # Judged on the device where the tables are, every token at once in chunks: copying the tables
    # to the host and comparing row by row cost most of this law's time on a GPU.
    req_to_token = case.named_inputs(r.inputs)["req_to_token"]
    msk, ps = case.max_seqlen_k, case.page_size
    live_prefix = case.engine.live_prefix
    pool_rows = torch.tensor(case.req_pool_indices, dtype=torch.int64)[case.token_requests()].to(req_to_token.device)
    kv = case.token_kv_lens()
    live = (kv.clamp(max=msk) if live_prefix else torch.full_like(kv, msk)).to(req_to_token.device)
    width = min(msk, req_to_token.shape[1])
    tables = []  # (name, columns a row holds, live cells of each token's row, what the row must be)
    if r.after.page_table_1 is not None:
        tables.append(("page_table_1", width, live, "request {b}'s row"))
    if ps > 1:
        tables.append(("real_page_table", -(-width // ps), -(-live // ps), f"request {{b}}'s first slot of each page // {ps}"))
    bad = {name: torch.zeros(total, dtype=torch.bool) for name, *_ in tables}
    for name, columns, live_cells, _ in tables:
        got_all, old_all = getattr(r.after, name), getattr(r.before, name)
        if got_all.shape[1] < columns:
            bad[name][:] = True
            continue
        chunk = max(1, ROWS_CHUNK_CELLS // max(columns, 1))
        cols = torch.arange(columns, device=got_all.device)
        for first in range(0, total, chunk):
            rows = slice(first, min(first + chunk, total))
            source = req_to_token[pool_rows[rows], :width]
            want = source if name == "page_table_1" else torch.div(source[:, ::ps], ps, rounding_mode="floor")
            got, old = got_all[rows, :columns], old_all[rows, :columns]
            inside = cols < live_cells[rows, None]
            holds = torch.where(inside, got == want, (got == want) | (got == old))
            bad[name][rows] = ~holds.all(dim=1).cpu()
    if not any(bool(token_bad.any()) for token_bad in bad.values()):
        return
    for b, (start, end) in enumerate(case.segments()):
        for name, _, live_cells, what in tables:
            if end > start and bool(bad[name][start:end].any()):
                t = start + int(bad[name][start:end].nonzero()[0])
                cells = int(live_cells[t])
                require(False, f"{name} row of token {t} is not {what.format(b=b)}" + (f" on its live prefix of {cells}" if live_prefix else ""))


def permuting_requests_permutes_segments(fill: Contract, case: ReplayCase, device: torch.device) -> None:
    """Reversing the order of the requests reverses the order of their token segments: each request's
    expanded lengths, clipped lengths and page rows move with it, and cache_seqlens is permuted alike."""
    order = list(reversed(range(case.bs)))
    moved = case.permuted(order)
    a, b = run(fill, case, device).after, run(fill, moved, device).after
    total = case.total_tokens
    segments = case.segments()
    rows = torch.cat([torch.arange(*segments[i], dtype=torch.int64) for i in order]) if total else None
    require(
        torch.equal(b.cache_seqlens_int32[: case.bs].cpu(), a.cache_seqlens_int32[: case.bs].cpu()[order]),
        "cache_seqlens_int32 did not follow the permutation",
    )
    if rows is None:
        return
    for name in ("nsa_seqlens_expanded", "nsa_cache_seqlens_int32"):
        if getattr(a, name) is None:
            continue
        want = getattr(a, name)[:total].cpu()[rows]
        require(torch.equal(getattr(b, name)[:total].cpu(), want), f"{name} segments did not follow the permutation")
    name, width = ("page_table_1", case.max_seqlen_k) if a.page_table_1 is not None else ("real_page_table", -(-case.max_seqlen_k // case.page_size))
    live = _defined(case, name, getattr(a, name))[:total, :width]
    moved_table, table = getattr(b, name)[:total, :width].cpu(), getattr(a, name)[:total, :width].cpu()[rows]
    require(
        torch.equal(moved_table[live[rows]], table[live[rows]]),
        f"{name} rows did not follow the permutation",
    )


def _defined(case: ReplayCase, name: str, t: torch.Tensor) -> torch.Tensor:
    """The cells of buffer `name` whose value the contract defines: all but a live-prefix profile's tail."""
    tail = case.tail(name, tuple(t.shape))
    return torch.ones(t.shape, dtype=torch.bool) if tail is None else ~tail


def outputs_ignore_old_contents(fill: Contract, case: ReplayCase, device: torch.device) -> None:
    """What the contract writes does not depend on what the buffers held before: runs from two
    different sentinels agree on every written cell."""
    first = run(fill, case, device, sentinel=case.sentinel)
    second = run(fill, case, device, sentinel=case.sentinel ^ 0x5A5A5A5A)
    written = case.written_region()
    for name, a in first.after.named().items():
        b = getattr(second.after, name)
        defined = _defined(case, name, a)[written[name]]
        require(
            torch.equal(a[written[name]].cpu()[defined], b[written[name]].cpu()[defined]),
            f"{name}: written cells depend on the old contents",
        )


def repeated_calls_agree(fill: Contract, case: ReplayCase, device: torch.device) -> None:
    """Two calls on the same inputs and buffers leave identical buffers (no races, no hidden state)."""
    r = run(fill, case, device)
    again = r.after.clone()
    with on_host(case):
        fill(*r.inputs, again, **case.options())
    for name, a in r.after.named().items():
        require(torch.equal(a, getattr(again, name)), f"{name}: a second call on the same inputs changed it")


def _layout(t: torch.Tensor) -> str:
    return f"{str(t.dtype).removeprefix('torch.')} shape {list(t.shape)} strides {list(t.stride())} offset {t.storage_offset()}"


def inputs_untouched(fill: Contract, case: ReplayCase, device: torch.device) -> None:
    """After the call every input is as it was: seq_lens, extend_seq_lens (draft-extend's),
    req_pool_indices and req_to_token keep their values, dtype, shape, strides and storage offset."""
    r = run(fill, case, device)
    for name, got, want in zip(case.input_names(), r.inputs, case.inputs(device)):
        require(_layout(got) == _layout(want), f"{name}: the call changed it from {_layout(want)} to {_layout(got)}")
        if torch.equal(got, want):
            continue
        changed = torch.nonzero(got.cpu() != want.cpu())
        shown = ", ".join(
            f"{name}{idx.tolist()}: {want.cpu()[tuple(idx)].item()} -> {got.cpu()[tuple(idx)].item()}" for idx in changed[:4]
        )
        raise LawBroken(f"{name}: the call wrote into an input: {changed.shape[0]} value(s) changed ({shown})")


def memory_outside_views_untouched(fill: Contract, case: ReplayCase, device: torch.device) -> None:
    """No cell of a buffer's or an input's storage outside its view changes: the guard cells before
    and after it, and the row padding between a table's rows, keep their sentinel."""
    r = run(fill, case, device)
    after = {**case.named_inputs(r.inputs), **r.after.named()}
    before = {**case.named_inputs(case.inputs(device)), **r.before.named()}
    for name, t in after.items():
        changed = (whole_storage(t) != whole_storage(before[name])) & outside_view_mask(t)
        cells = torch.nonzero(changed.cpu()).flatten().tolist()
        require(
            not cells,
            f"{name}: {len(cells)} cell(s) of its storage outside the view changed: "
            + "; ".join(describe_outside_view(t, cell) for cell in cells[:4]),
        )


def steps_match_reference(
    steps, captured: tuple[torch.Tensor, ...], buffers: MetadataBuffers, mirror, launch, device, what: str
) -> None:
    """For each step: write its values into the same input tensors (the [:bs] prefix of the
    per-request ones, so a step of fewer requests, an idle one included, takes prefix views of them),
    `launch(step, views)`, and run the reference on its own copy of the buffers (`mirror`); every
    buffer must then equal the reference's, padding included."""
    for index, step in enumerate(steps):
        reference = FILLS[step.forward_mode]
        fresh = step.inputs(device)
        views = tuple(t[: step.bs] if t.dim() == 1 else t for t in captured)
        for static, value in zip(views, fresh):
            static.copy_(value)
        before = buffers.clone()
        launch(step, views)
        reference(*fresh, mirror, **step.options())
        mismatches = compare(step, mirror, buffers, before)
        require(not mismatches, f"{what} {index} differs from the reference:\n" + report(mismatches))


def state_across_calls(fill: Contract, case: ReplayCase, device: torch.device) -> None:
    """Called again on the very same input tensors and buffers after new values are written into
    them (new lengths and totals, other pool rows, new req_to_token contents, a smaller and then a
    larger max(seq_lens)), every call equals the reference on its own inputs: nothing may be kept
    from an earlier call, however the tensors' addresses repeat. Between the first two calls comes an
    idle one (bs 0 on prefix views of the same tensors, as a DP attention rank with no requests runs
    beside live ones), which writes nothing."""
    idle = case.with_changes(seq_lens=(), extend_seq_lens=(), req_pool_indices=(), padding=0)
    steps = (case, idle, *case.follow_ups())
    calls_match_reference(fill, steps, case.inputs(device), case.buffers(device), device, "call")


def calls_match_reference(fill: Contract, steps, captured, buffers, device, what: str) -> None:
    """`steps_match_reference` with each step a plain call of `fill` on the same tensors and buffers."""

    def launch(step: ReplayCase, views) -> None:
        with on_host(step):
            fill(*views, buffers, **step.options())

    steps_match_reference(steps, captured, buffers, buffers.clone(), launch, device, what)


ORACLE_FREE_LAWS = (
    padding_untouched,
    cache_seqlens_are_kv_lengths,
    ctx_lens_are_kv_lengths,
    cu_buffers_are_prefix_sums,
    expanded_lengths_count_up_to_seq_len,
    no_length_below_floor,
    clipped_is_sparse_length,
    page_rows_are_request_rows,
    permuting_requests_permutes_segments,
    outputs_ignore_old_contents,
    repeated_calls_agree,
)
CONTRACT_LAWS = (
    differential,
    *ORACLE_FREE_LAWS,
    inputs_untouched,
    memory_outside_views_untouched,
    state_across_calls,
)


@only_in(DRAFT_EXTEND.name)
def simple_api_agrees_with_contract(api, case: ReplayCase, device: torch.device) -> None:
    """expand_seqlens returns exactly nsa_seqlens_expanded[:total] and nsa_cache_seqlens_int32[:total]
    of the contract, with and without total_tokens."""
    expected = run_reference(case, device).after
    seq_lens, extend_seq_lens, _, _ = case.inputs(device)
    total = case.total_tokens
    for total_tokens in (None, total):
        expanded, clipped = api.expand_seqlens(
            extend_seq_lens, seq_lens, case.nsa_index_topk, total_tokens=total_tokens, padding_floor=case.floor,
            index_kpool=case.index_kpool,
        )
        require(
            torch.equal(expanded, expected.nsa_seqlens_expanded[:total]),
            f"expand_seqlens(total_tokens={total_tokens}) expanded lengths differ from the contract's",
        )
        require(
            torch.equal(clipped, expected.nsa_cache_seqlens_int32[:total]),
            f"expand_seqlens(total_tokens={total_tokens}) clipped lengths differ from the contract's",
        )


@only_in(DRAFT_EXTEND.name)
def in_place_api_agrees_with_contract(api, case: ReplayCase, device: torch.device) -> None:
    """expand_seqlens_into writes the contract's two per-token vectors into padded buffers, cell for
    cell, and leaves their padding as it was."""
    expected = run_reference(case, device).after
    seq_lens, extend_seq_lens, _, _ = case.inputs(device)
    buffers = case.buffers(device)
    api.expand_seqlens_into(
        extend_seq_lens,
        seq_lens,
        case.nsa_index_topk,
        buffers.nsa_seqlens_expanded,
        buffers.nsa_cache_seqlens_int32,
        padding_floor=case.floor,
        index_kpool=case.index_kpool,
    )
    for name in ("nsa_seqlens_expanded", "nsa_cache_seqlens_int32"):
        require(
            torch.equal(getattr(buffers, name), getattr(expected, name)),
            f"expand_seqlens_into: {name} differs from the contract's (padding included)",
        )


API_LAWS = (simple_api_agrees_with_contract, in_place_api_agrees_with_contract)
