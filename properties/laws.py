"""The properties: each a law that any implementation of the contract must obey on any valid case.

`differential` compares with the reference on every cell. The oracle-free laws state what the
buffers must hold without consulting the reference, so a defect shared by the reference and the
implementation under test (or a reference that drifted) is still caught, and a failure names the
law broken rather than just a cell. Each law raises `LawBroken` with a readable account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from properties.cases import ReplayCase
from properties.compare import compare, describe_outside_view, report
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


class LawBroken(AssertionError):
    pass


@dataclass
class Failure:
    """A law that an implementation broke, on which case, and the law's account of it."""

    case: ReplayCase
    law: str
    message: str

    def fingerprint(self) -> tuple[str, ...]:
        """What kind of failure this is, numbers aside: the law and the headline of each buffer's
        report. Failures that share one are taken for the same defect."""
        headlines = (line for line in self.message.splitlines() if line and not line[0].isspace())
        return (self.law, *sorted(re.sub(r"-?\d+", "#", line) for line in headlines))


def first_broken_law(fill, case: ReplayCase, device: torch.device, laws) -> Failure | None:
    """The first of `laws` that `fill` breaks on `case`, or None when it obeys them all."""
    for law in laws:
        try:
            law(fill, case, device)
        except Exception as error:  # a crash of the variant is a failure like any other
            return Failure(case, law.__name__, f"{type(error).__name__}: {error}")
    return None


def _require(holds: bool, message: str) -> None:
    if not holds:
        raise LawBroken(message)


def differential(fill: Contract, case: ReplayCase, device: torch.device) -> None:
    """Every cell of every buffer, padding included, equals the reference's (torch.equal); under a
    live-prefix profile a tail cell equals it or keeps its old contents."""
    expected = run_reference(case, device).after
    r = run(fill, case, device)
    mismatches = compare(case, expected, r.after, r.before)
    _require(not mismatches, "differs from the reference:\n" + report(mismatches))


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
        _require(changed == 0, f"{name}: {changed} cell(s) outside the written region changed")


def cache_seqlens_are_kv_lengths(fill: Contract, case: ReplayCase, device: torch.device) -> None:
    """cache_seqlens_int32[b] is request b's kv length: seq_lens[b], plus next_n for target-verify."""
    r = run(fill, case, device)
    got = r.after.cache_seqlens_int32[: case.bs].cpu().tolist()
    _require(got == list(case.kv_lens), f"cache_seqlens_int32[:bs] = {got}, kv lengths = {list(case.kv_lens)}")


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
    _require(not bad, f"paged_mqa_ctx_lens_2d{bad[0] if bad else ''}: {len(bad)} cell(s) are not their request's kv length")


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
        _require(
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
    expanded = r.after.token_lengths().cpu().tolist()
    floor = case.floor
    for b, (start, end) in enumerate(case.segments()):
        seg = expanded[start:end]
        if not seg:
            continue
        kv, qo = case.kv_lens[b], case.extend_seq_lens[b]
        _require(seg[-1] == max(kv, floor), f"request {b}: last expanded length {seg[-1]} != its kv length {max(kv, floor)}")
        # Steps s with kv - qo + 1 + s <= floor: their lengths are the floor.
        at_floor = max(0, min(qo, floor - kv + qo))
        _require(
            all(v == floor for v in seg[:at_floor]),
            f"request {b} (qo={qo}, kv={kv}): expanded lengths {seg} do not start with {at_floor} lengths of {floor}",
        )
        steps = {y - x for x, y in zip(seg[max(at_floor - 1, 0):], seg[max(at_floor, 1):])}
        _require(steps <= {1}, f"request {b}: expanded lengths {seg} do not rise by one")


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
        _require(not bad, f"{name}: tokens {bad[:8]} hold lengths {values[bad[:8]].tolist()}, below {case.profile}'s floor {case.floor}")


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
    _require(not bad, f"tokens {bad[:8]}: clipped {clipped[bad[:8]].tolist()} != {rule} {want[bad[:8]].tolist()}")


def _row_holds(got: torch.Tensor, old: torch.Tensor, want: torch.Tensor, live: int) -> bool:
    """A page row holds `want` on its first `live` cells, and past them either `want` or its old
    contents (with `live` the whole row, every cell is `want`)."""
    return torch.equal(got[:live], want[:live]) and bool(((got[live:] == want[live:]) | (got[live:] == old[live:])).all())


def page_rows_are_request_rows(fill: Contract, case: ReplayCase, device: torch.device) -> None:
    """page_table_1[t, :max_seqlen_k] is req_to_token[req_pool_indices[b], :max_seqlen_k] for every
    token t of request b; for page_size > 1, real_page_table[t, p] is that row's column p*page_size
    floor-divided by page_size, for every page p < ceil(max_seqlen_k / page_size). Under a live-prefix
    profile that holds below the request's kv length (pages that start below it); past it each cell
    holds that value or its old contents. A caller without page_table_1 gets the real table alone."""
    r = run(fill, case, device)
    req_to_token = case.named_inputs(r.inputs)["req_to_token"].cpu()
    msk, ps = case.max_seqlen_k, case.page_size
    live_prefix = case.engine.live_prefix
    # Each table read back once, not once per request.
    tables_after = {name: t.cpu() for name, t in r.after.named().items()}
    tables_before = {name: t.cpu() for name, t in r.before.named().items()}
    for b, (start, end) in enumerate(case.segments()):
        row = req_to_token[case.req_pool_indices[b], :msk]
        live = min(case.kv_lens[b], msk) if live_prefix else msk
        tables = []
        if r.after.page_table_1 is not None:
            tables.append(("page_table_1", row, live, f"request {b}'s row"))
        if ps > 1:
            tables.append(("real_page_table", torch.div(row[::ps], ps, rounding_mode="floor"), -(-live // ps),
                           f"request {b}'s first slot of each page // {ps}"))
        for name, want, live_cells, what in tables:
            got, old = tables_after[name], tables_before[name]
            width = want.shape[0]
            for t in range(start, end):
                _require(
                    _row_holds(got[t, :width], old[t, :width], want, live_cells),
                    f"{name} row of token {t} is not {what}" + (f" on its live prefix of {live_cells}" if live_prefix else ""),
                )


def permuting_requests_permutes_segments(fill: Contract, case: ReplayCase, device: torch.device) -> None:
    """Reversing the order of the requests reverses the order of their token segments: each request's
    expanded lengths, clipped lengths and page rows move with it, and cache_seqlens is permuted alike."""
    order = list(reversed(range(case.bs)))
    moved = case.permuted(order)
    a, b = run(fill, case, device).after, run(fill, moved, device).after
    total = case.total_tokens
    segments = case.segments()
    rows = torch.cat([torch.arange(*segments[i], dtype=torch.int64) for i in order]) if total else None
    _require(
        torch.equal(b.cache_seqlens_int32[: case.bs].cpu(), a.cache_seqlens_int32[: case.bs].cpu()[order]),
        "cache_seqlens_int32 did not follow the permutation",
    )
    if rows is None:
        return
    for name in ("nsa_seqlens_expanded", "nsa_cache_seqlens_int32"):
        if getattr(a, name) is None:
            continue
        want = getattr(a, name)[:total].cpu()[rows]
        _require(torch.equal(getattr(b, name)[:total].cpu(), want), f"{name} segments did not follow the permutation")
    name, width = ("page_table_1", case.max_seqlen_k) if a.page_table_1 is not None else ("real_page_table", -(-case.max_seqlen_k // case.page_size))
    live = _defined(case, name, getattr(a, name))[:total, :width]
    moved_table, table = getattr(b, name)[:total, :width].cpu(), getattr(a, name)[:total, :width].cpu()[rows]
    _require(
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
        _require(
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
        _require(torch.equal(a, getattr(again, name)), f"{name}: a second call on the same inputs changed it")


def _layout(t: torch.Tensor) -> str:
    return f"{str(t.dtype).removeprefix('torch.')} shape {list(t.shape)} strides {list(t.stride())} offset {t.storage_offset()}"


def inputs_untouched(fill: Contract, case: ReplayCase, device: torch.device) -> None:
    """After the call every input is as it was: seq_lens, extend_seq_lens (draft-extend's),
    req_pool_indices and req_to_token keep their values, dtype, shape, strides and storage offset."""
    r = run(fill, case, device)
    for name, got, want in zip(case.input_names(), r.inputs, case.inputs(device)):
        _require(_layout(got) == _layout(want), f"{name}: the call changed it from {_layout(want)} to {_layout(got)}")
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
        _require(
            not cells,
            f"{name}: {len(cells)} cell(s) of its storage outside the view changed: "
            + "; ".join(describe_outside_view(t, cell) for cell in cells[:4]),
        )


def _steps_match_reference(
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
        _require(not mismatches, f"{what} {index} differs from the reference:\n" + report(mismatches))


def state_across_calls(fill: Contract, case: ReplayCase, device: torch.device) -> None:
    """Called again on the very same input tensors and buffers after new values are written into
    them (new lengths and totals, other pool rows, new req_to_token contents, a smaller and then a
    larger max(seq_lens)), every call equals the reference on its own inputs: nothing may be kept
    from an earlier call, however the tensors' addresses repeat. Between the first two calls comes an
    idle one (bs 0 on prefix views of the same tensors, as a DP attention rank with no requests runs
    beside live ones), which writes nothing."""
    idle = case.with_changes(seq_lens=(), extend_seq_lens=(), req_pool_indices=(), padding=0)
    steps = (case, idle, *case.follow_ups())
    _calls_match_reference(fill, steps, case.inputs(device), case.buffers(device), device, "call")


def _calls_match_reference(fill: Contract, steps, captured, buffers, device, what: str) -> None:
    """`_steps_match_reference` with each step a plain call of `fill` on the same tensors and buffers."""

    def launch(step: ReplayCase, views) -> None:
        with on_host(step):
            fill(*views, buffers, **step.options())

    _steps_match_reference(steps, captured, buffers, buffers.clone(), launch, device, what)


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
        _require(
            torch.equal(expanded, expected.nsa_seqlens_expanded[:total]),
            f"expand_seqlens(total_tokens={total_tokens}) expanded lengths differ from the contract's",
        )
        _require(
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
        _require(
            torch.equal(getattr(buffers, name), getattr(expected, name)),
            f"expand_seqlens_into: {name} differs from the contract's (padding included)",
        )


API_LAWS = (simple_api_agrees_with_contract, in_place_api_agrees_with_contract)


SYNCS = "synchronizes with the host (`.item()`, `.tolist()`, `.cpu()` or a data-dependent shape)"


def first_line(error: BaseException) -> str:
    """`Type: the message's first line`, for a one-line verdict."""
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}"


# What CUDA (and PyTorch's capture checks) say, and what it means of the variant, most specific
# first. The first are work on a stream the capture never joined, which the streams law reports too.
STREAM_ERRORS = (
    ("capturing stream has unjoined work", "works on a stream it forks from the capture and never joins back into the caller's"),
    ("dependency created on uncaptured work", "waits on work of a stream outside the capture (a stream the capture never joined)"),
    ("legacy stream depend on a capturing", "enqueues work on the legacy default stream, which the capturing stream never joined"),
    ("merge of separate capture sequences", "joins two separate captures through a stream of its own"),
)
CAPTURE_ERRORS = STREAM_ERRORS + (
    ("event last recorded in a capturing stream", "queries or waits on the host for an event of the capture"),
    ("operation not permitted when stream is capturing", "synchronizes with the host or copies through pageable memory during capture (`.item()`, `.tolist()`, `.cpu()`, a data-dependent shape)"),
    ("during CUDA graph capture", "calls an operation that graph capture forbids"),
    ("while capturing", "calls an operation that graph capture forbids"),
    ("operation failed due to a previous error during capture", "an earlier operation of the call invalidated the capture"),
)


def _chain(error: BaseException) -> list[BaseException]:
    """The error and what it was raised from or during, the original first."""
    seen = []
    while error is not None and error not in seen:
        seen.append(error)
        error = error.__cause__ or error.__context__
    return seen[::-1]


def capture_failure(error: BaseException) -> str:
    """Why a capture failed, read from the error itself and quoting it: a stream the capture never
    joined, a host sync or pageable copy, an operation capture forbids, or the variant's own
    exception. An error raised inside the capture makes its end fail too; the original is quoted."""
    chain = _chain(error)
    for sign, meaning in CAPTURE_ERRORS:
        for link in chain:
            if sign in str(link):
                return f"not capturable: it {meaning}: {first_line(link)}"
    return f"capture failed: the variant raised {first_line(chain[0])}"


def never_syncs_with_host(fill: Contract, case: ReplayCase, device: torch.device) -> None:
    """Once warm (compiled, planned), a call makes no host sync: it runs clean under
    torch.cuda.set_sync_debug_mode("error"), whose check is shown live by a deliberate `.item()`."""
    inputs, buffers = case.inputs(device), case.buffers(device)
    with on_host(case):
        fill(*inputs, buffers, **case.options())
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        with on_host(case):
            fill(*inputs, buffers, **case.options())
        try:
            inputs[0].sum().item()
        except RuntimeError:
            pass
        else:
            raise LawBroken("the sync check is not live: a deliberate .item() did not raise")
    except RuntimeError as error:
        raise LawBroken(f"{SYNCS}: {first_line(error)}") from error
    finally:
        torch.cuda.set_sync_debug_mode(0)


def _capture(fill: Contract, case: ReplayCase, captured, buffers, stream=None) -> "torch.cuda.CUDAGraph":
    """A graph of one call, captured on `stream` (a side stream by default) after a warm call there."""
    side = stream or torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    try:
        with torch.cuda.stream(side), on_host(case):
            fill(*captured, buffers, **case.options())
    except Exception as error:
        raise LawBroken(f"the variant raised {first_line(error)} on its warm call, before capture") from error
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    try:
        with torch.cuda.graph(graph, stream=side), on_host(case):
            fill(*captured, buffers, **case.options())
    except Exception as error:
        raise LawBroken(capture_failure(error)) from error
    return graph


def graph_replays_match_reference(fill: Contract, session, device: torch.device) -> None:
    """Captured once in a CUDA graph, then replayed with each step's values written into the captured
    input tensors: after every replay every buffer equals the reference's on that step's inputs,
    padding included (the reference keeps its own copy of the buffers, step after step)."""
    first = session.steps[0]
    reference = FILLS[first.forward_mode]
    captured = first.inputs(device)
    buffers = session.buffers(device)
    mirror = buffers.clone()
    graph = _capture(fill, first, captured, buffers)
    reference(*captured, mirror, **first.options())
    _steps_match_reference(session.steps, captured, buffers, mirror, lambda step, views: graph.replay(), device, "replay")


def engine_replays_match_reference(fill: Contract, session, device: torch.device) -> None:
    """SGLang's runner, step by step: a bucket captured on the fill values, then replays with a
    changing number of live requests and the rest padded in place; every replay equals the reference,
    padding requests and buffer padding included. On a GPU the call is captured once and replayed;
    without one the same steps are calls on the very same tensors and buffers."""
    if device.type == "cuda":
        graph_replays_match_reference(fill, session, device)
        return
    _calls_match_reference(fill, session.steps, session.steps[0].inputs(device), session.buffers(device), device, "replay")


# A device-side wait far longer than any call takes to run: ~0.1 s at a Hopper GPU's clock.
SLEEP_CYCLES = 200_000_000
READS_TOO_EARLY = (
    "does not run on the caller's current stream: it read its inputs before the caller's stream had "
    "written them (it never waits for that stream)"
)
WRITES_TOO_LATE = (
    "does not run on the caller's current stream: a read enqueued on that stream right after the call "
    "saw the buffers before its writes (it works on another stream and never joins back)"
)


def runs_on_callers_stream(fill: Contract, case: ReplayCase, device: torch.device) -> None:
    """The variant runs on the caller's current stream, as a PyTorch op does. On a non-default caller
    stream, behind a long device-side wait, the inputs are written and the call made; what it reads
    must be those inputs, and a read enqueued on that stream right after it, with no synchronize
    between, must see what the variant writes on them when nothing else is in flight. A capture on
    that stream must not find work on a stream it never joins. The wait makes a variant that ignores
    the caller's stream read the old inputs on every run; the capture shows one that forks from it and
    never joins back."""
    old = case.follow_ups()[0]
    inputs = old.inputs(device)
    values = case.inputs(device)
    buffers = case.buffers(device)
    pristine = buffers.clone()
    # What the variant itself writes on these inputs, called with nothing else in flight: this law
    # judges the stream order alone, whatever the values (the values row judges those).
    expected = buffers.clone()
    with on_host(case):
        fill(*case.inputs(device), expected, **case.options())
    torch.cuda.synchronize()
    # Warm on these very tensors (compiled, planned), then back to the untouched buffers.
    with on_host(old):
        fill(*inputs, buffers, **old.options())
    torch.cuda.synchronize()
    for name, t in buffers.named().items():
        whole_storage(t).copy_(whole_storage(getattr(pristine, name)))
    torch.cuda.synchronize()

    caller = torch.cuda.Stream(device)
    with torch.cuda.stream(caller):
        torch.cuda._sleep(SLEEP_CYCLES)
        for t, v in zip(inputs, values):
            t.copy_(v)
        with on_host(case):
            fill(*inputs, buffers, **case.options())
        seen = buffers.clone()
    torch.cuda.synchronize()
    mismatches = compare(case, expected, buffers)
    _require(not mismatches, f"{READS_TOO_EARLY}:\n" + report(mismatches))
    mismatches = compare(case, expected, seen)
    _require(not mismatches, f"{WRITES_TOO_LATE}:\n" + report(mismatches))

    try:
        _capture(fill, case, inputs, buffers, stream=caller)
    except LawBroken as error:
        if any(meaning in str(error) for _, meaning in STREAM_ERRORS):
            raise LawBroken(f"does not run on the caller's current stream: {error}") from error
