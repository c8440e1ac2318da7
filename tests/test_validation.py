"""Bad input is refused with an error naming the argument, before anything is written.

Host-visible defects (dtype, device, rank, shape, aliasing, host ints) are checked on every call;
defects in the device data only in validation mode, which costs a host sync and is opt-in.
"""

from __future__ import annotations

import dataclasses
import os
from unittest import mock

import pytest
import torch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kernel
from kernel.validation import check_values
from properties.edges import EDGE_EXAMPLES
from properties.strategies import replay_cases, graph_sessions, large_batch, long_context_batch, small_batch, wide_batch
from reference.modes import FORWARD_MODES

CASE = EDGE_EXAMPLES["page_size_64"]


def call(device, mutate, validate=None):
    """Run the shipped entry point on CASE after `mutate(args)`; if it raises, no buffer was written."""
    seq_lens, extend_seq_lens, req_pool_indices, req_to_token = CASE.inputs(device)
    args = {
        "seq_lens": seq_lens,
        "extend_seq_lens": extend_seq_lens,
        "req_pool_indices": req_pool_indices,
        "req_to_token": req_to_token,
        "buffers": CASE.buffers(device),
        **CASE.options(),
    }
    mutate(args)
    before = args["buffers"].clone() if isinstance(args["buffers"], kernel.MetadataBuffers) else None
    try:
        kernel.fill_draft_extend_metadata(**args, validate=validate)
    except (TypeError, ValueError):
        if before is not None:
            for name, t in before.named().items():
                assert torch.equal(getattr(args["buffers"], name), t), f"{name} was written before the error"
        raise


def with_buffer(name, make):
    def mutate(args):
        buffers = args["buffers"]
        args["buffers"] = dataclasses.replace(buffers, **{name: make(getattr(buffers, name))})

    return mutate


def setting(name, value):
    return lambda args: args.__setitem__(name, value(args[name]) if callable(value) else value)


HOST_CHECKS = {
    "float seq_lens": (setting("seq_lens", lambda t: t.float()), TypeError, "seq_lens"),
    "int16 extend_seq_lens": (setting("extend_seq_lens", lambda t: t.to(torch.int16)), TypeError, "extend_seq_lens"),
    "2-D req_pool_indices": (setting("req_pool_indices", lambda t: t[None, :]), ValueError, "req_pool_indices"),
    "strided seq_lens": (
        setting("seq_lens", lambda t: torch.stack([t, t], 1).flatten()[::2]),
        ValueError,
        "seq_lens must be contiguous",
    ),
    "batch size mismatch": (setting("extend_seq_lens", lambda t: t[:-1]), ValueError, "extend_seq_lens"),
    "pool indices batch mismatch": (setting("req_pool_indices", lambda t: t[1:]), ValueError, "req_pool_indices"),
    "empty seq_lens beside a full req_pool_indices": (
        lambda a: a.update(seq_lens=a["seq_lens"][:0], extend_seq_lens=a["extend_seq_lens"][:0]),
        ValueError,
        "seq_lens",
    ),
    "int64 req_to_token": (setting("req_to_token", lambda t: t.long()), TypeError, "req_to_token"),
    "1-D req_to_token": (setting("req_to_token", lambda t: t[0]), ValueError, "req_to_token"),
    "page_size not a power of two": (setting("page_size", 48), ValueError, "page_size"),
    "page_size zero": (setting("page_size", 0), ValueError, "page_size"),
    "topk zero": (setting("nsa_index_topk", 0), ValueError, "nsa_index_topk"),
    "topk not an int": (setting("nsa_index_topk", 4.0), TypeError, "nsa_index_topk"),
    "max_seqlen_k a tensor": (setting("max_seqlen_k", lambda m: torch.tensor(m)), TypeError, "max_seqlen_k"),
    "max_seqlen_k past req_to_token": (
        setting("max_seqlen_k", lambda m: CASE.context_len + 1),
        ValueError,
        "max_seqlen_k",
    ),
    "buffers not the dataclass": (setting("buffers", lambda b: dataclasses.asdict(b)), TypeError, "buffers"),
    "int64 cache_seqlens_int32": (with_buffer("cache_seqlens_int32", lambda t: t.long()), TypeError, "cache_seqlens_int32"),
    "short cache_seqlens_int32": (with_buffer("cache_seqlens_int32", lambda t: t[: CASE.bs - 1]), ValueError, "cache_seqlens_int32"),
    "short cu_seqlens_k": (with_buffer("cu_seqlens_k", lambda t: t[: CASE.bs]), ValueError, "cu_seqlens_k"),
    "narrow page_table_1": (
        with_buffer("page_table_1", lambda t: t[:, : CASE.max_seqlen_k - 1]),
        ValueError,
        "page_table_1",
    ),
    "narrow real_page_table": (with_buffer("real_page_table", lambda t: t[:, :1]), ValueError, "real_page_table"),
    "column-strided page_table_1": (with_buffer("page_table_1", lambda t: t.t().t()[:, ::2]), ValueError, "page_table_1"),
    "real_page_table sharing page_table_1": (
        lambda a: with_buffer("real_page_table", lambda t: a["buffers"].page_table_1)(a),
        ValueError,
        "real_page_table",
    ),
    "overlapping token buffers": (
        lambda a: with_buffer("nsa_cache_seqlens_int32", lambda t: a["buffers"].nsa_seqlens_expanded[1:])(a),
        ValueError,
        "overlaps",
    ),
    # The engine profile's options (CASE is page_size 64, topk 2048).
    "padding_floor 2": (setting("padding_floor", 2), ValueError, "padding_floor must be 0 or 1"),
    "padding_floor negative": (setting("padding_floor", -1), ValueError, "padding_floor"),
    "padding_floor a bool": (setting("padding_floor", True), TypeError, "padding_floor"),
    "padding_floor None": (setting("padding_floor", None), TypeError, "padding_floor"),
    "index_kpool 3": (setting("index_kpool", 3), ValueError, "index_kpool must be one of"),
    "index_kpool 0": (setting("index_kpool", 0), ValueError, "index_kpool"),
    "index_kpool not dividing topk": (
        lambda a: a.update(index_kpool=16, nsa_index_topk=2040),
        ValueError,
        "index_kpool=16 needs page_size=64 and a top-k it divides",
    ),
    "index_kpool at page_size 16": (
        lambda a: a.update(index_kpool=4, page_size=16),
        ValueError,
        "index_kpool=4 needs page_size=64",
    ),
    # The caller's promise of one width is a bool, as the profile's live_prefix is.
    "static_extend_len not a bool": (setting("static_extend_len", 1), TypeError, "static_extend_len must be a bool"),
}


@pytest.mark.parametrize("route", ["1", "0"], ids=["triton", "reference"])
@pytest.mark.parametrize("defect", HOST_CHECKS)
def test_host_checks_refuse_before_writing(defect, route, device):
    mutate, error, message = HOST_CHECKS[defect]
    with mock.patch.dict(os.environ, {"SGLANG_DSA_USE_TRITON_METADATA": route}):
        with pytest.raises(error, match=message):
            call(device, mutate)


@pytest.mark.parametrize("route", ["1", "0"], ids=["triton", "reference"])
def test_page_table_1_none_needs_a_page_size_above_1(route, device):
    """Without page_table_1 the real table is all a page size of 1 would have, and it is page_table_1
    itself: refused before anything is written, naming page_table_1."""

    def omit_at_page_1(args):
        args["page_size"] = 1
        args["max_seqlen_k"] = CASE.max_seqlen_k
        args["buffers"] = dataclasses.replace(args["buffers"], page_table_1=None)

    with mock.patch.dict(os.environ, {"SGLANG_DSA_USE_TRITON_METADATA": route}):
        with pytest.raises(ValueError, match="page_table_1 is None, but with page_size 1"):
            call(device, omit_at_page_1)


def test_page_size_1_needs_real_page_table_to_be_page_table_1(device):
    case = EDGE_EXAMPLES["page_size_1"]
    seq_lens, extend_seq_lens, req_pool_indices, req_to_token = case.inputs(device)
    buffers = case.buffers(device)
    buffers = dataclasses.replace(buffers, real_page_table=buffers.page_table_1.clone())
    with pytest.raises(ValueError, match="real_page_table must be page_table_1"):
        kernel.fill_draft_extend_metadata(
            seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **case.options()
        )


def replace_value(name, index, value):
    def mutate(args):
        t = args[name].clone()
        t[index] = value
        args[name] = t

    return mutate


VALUE_CHECKS = {
    "negative seq_len": (replace_value("seq_lens", 1, -1), "seq_lens\\[1\\]=-1 is negative"),
    "negative extend": (replace_value("extend_seq_lens", 0, -1), "negative"),
    "seq_len above max_seqlen_k": (
        lambda a: (replace_value("seq_lens", 2, CASE.max_seqlen_k + 1)(a)),
        "exceeds max_seqlen_k",
    ),
    "pool index out of range": (replace_value("req_pool_indices", 3, CASE.pool_size), "req_pool_indices"),
    "negative pool index": (replace_value("req_pool_indices", 0, -1), "req_pool_indices"),
    "static width broken": (
        lambda a: (a.update(static_extend_len=True), replace_value("extend_seq_lens", 1, CASE.extend_seq_lens[0] + 1)(a)),
        "static_extend_len=True promises equal extend lengths, but extend_seq_lens\\[1\\]",
    ),
    "more tokens than buffers hold": (
        replace_value("extend_seq_lens", 0, CASE.extend_seq_lens[0] + CASE.spare_tokens + 1),
        "capacity",
    ),
}


@pytest.mark.parametrize("route", ["1", "0"], ids=["triton", "reference"])
@pytest.mark.parametrize("defect", VALUE_CHECKS)
def test_validation_mode_refuses_bad_values_before_writing(defect, route, device):
    mutate, message = VALUE_CHECKS[defect]
    with mock.patch.dict(os.environ, {"SGLANG_DSA_USE_TRITON_METADATA": route}):
        with pytest.raises(ValueError, match=message):
            call(device, mutate, validate=True)


def test_validation_mode_from_environment(device):
    mutate, message = VALUE_CHECKS["negative seq_len"]
    with mock.patch.dict(os.environ, {"SGLANG_DSA_METADATA_VALIDATE": "1"}):
        with pytest.raises(ValueError, match=message):
            call(device, mutate)


def test_validation_mode_passes_valid_input(device):
    call(device, lambda args: None, validate=True)


@pytest.mark.parametrize("route", ["1", "0"], ids=["triton", "reference"])
@pytest.mark.parametrize("name", ["padded_bucket", "extend_past_seq_len", "empty_batch"])
def test_validation_mode_accepts_what_the_engine_sends(name, route, device):
    """Padding requests (extend_seq_lens > seq_lens, pool row 0) and an idle batch are inputs the
    contract admits: validation mode lets them through, and the call equals the list statement (a
    live-prefix tail cell may keep its old contents instead)."""
    from reference.lists import expected_buffers

    case = EDGE_EXAMPLES[name]
    inputs, buffers = case.inputs(device), case.buffers(device)
    with mock.patch.dict(os.environ, {"SGLANG_DSA_USE_TRITON_METADATA": route}):
        kernel.fill_draft_extend_metadata(*inputs, buffers, **case.options(), validate=True)
    initial = {name: t.cpu().tolist() for name, t in case.buffers(device).named().items()}
    want = expected_buffers(
        case.mode, list(case.seq_lens), list(case.extend_seq_lens), list(case.req_pool_indices), inputs[3].cpu().tolist(), initial,
        **case.options(),
    )
    for buffer, t in buffers.named().items():
        got, full, old = t.cpu(), torch.tensor(want[buffer], dtype=torch.int32), torch.tensor(initial[buffer], dtype=torch.int32)
        tail = case.tail(buffer, tuple(got.shape))
        kept = torch.zeros(got.shape, dtype=torch.bool) if tail is None else tail & (got == old)
        assert torch.equal(torch.where(kept, full, got), full), buffer


def test_overflowing_cu_seqlens_refused_in_validation_mode(device):
    big = 2**31 - 10
    seq_lens = torch.tensor([big, big], dtype=torch.int64, device=device)
    extend_seq_lens = torch.tensor([0, 0], dtype=torch.int64, device=device)
    out = torch.zeros(4, dtype=torch.int32, device=device)
    with pytest.raises(ValueError, match="overflows"):
        kernel.expand_seqlens_into(extend_seq_lens, seq_lens, 8, out, out.clone(), validate=True)


@pytest.mark.parametrize("route", ["1", "0"], ids=["triton", "reference"])
def test_expand_seqlens_total_tokens_checked_in_validation_mode(route, device):
    seq_lens, extend_seq_lens, _, _ = CASE.inputs(device)
    with mock.patch.dict(os.environ, {"SGLANG_DSA_USE_TRITON_METADATA": route}):
        with pytest.raises(ValueError, match="total_tokens"):
            kernel.expand_seqlens(extend_seq_lens, seq_lens, 4, total_tokens=CASE.total_tokens + 1, validate=True)


EXPAND_CHECKS = {
    "float seq_lens": (lambda a: a.update(seq_lens=a["seq_lens"].float()), TypeError, "seq_lens"),
    "batch size mismatch": (lambda a: a.update(seq_lens=a["seq_lens"][1:]), ValueError, "extend_seq_lens"),
    "topk zero": (lambda a: a.update(nsa_index_topk=0), ValueError, "nsa_index_topk"),
    "padding_floor 2": (lambda a: a.update(padding_floor=2), ValueError, "padding_floor"),
    "total_tokens negative": (lambda a: a.update(total_tokens=-1), ValueError, "total_tokens"),
    "extend_seq_lens a list": (lambda a: a.update(extend_seq_lens=a["extend_seq_lens"].tolist()), TypeError, "extend_seq_lens"),
}


@pytest.mark.parametrize("route", ["1", "0"], ids=["triton", "reference"])
@pytest.mark.parametrize("defect", EXPAND_CHECKS)
def test_expand_seqlens_checks_its_arguments_on_both_routes(defect, route, device):
    """The allocating expand API checks what the in-place one does, whichever route the switch picks."""
    mutate, error, message = EXPAND_CHECKS[defect]
    seq_lens, extend_seq_lens, _, _ = CASE.inputs(device)
    args = {"extend_seq_lens": extend_seq_lens, "seq_lens": seq_lens, "nsa_index_topk": 4}
    mutate(args)
    with mock.patch.dict(os.environ, {"SGLANG_DSA_USE_TRITON_METADATA": route}):
        with pytest.raises(error, match=message):
            kernel.expand_seqlens(**args)


def test_the_public_fills_pickle_by_name():
    """A process pool sends a fill by its module and name: the public fills and a mutant's resolve."""
    import importlib
    import pickle

    for fill in (kernel.fill_draft_extend_metadata, kernel.fill_decode_metadata, kernel.fill_target_verify_metadata):
        assert pickle.loads(pickle.dumps(fill)) is fill
    mutant = importlib.import_module("properties.mutants.decode_floor_one").fill_decode_metadata
    assert pickle.loads(pickle.dumps(mutant)) is mutant



@settings(max_examples=500, deadline=None)
@given(batch=st.one_of(small_batch(), large_batch(), long_context_batch(), wide_batch()))
def test_every_regime_draws_lengths_inside_the_contract(batch):
    """0 <= extend_seq_lens <= seq_lens in every regime's batches. A request extending past its own
    length (once drawn by the long-context regime) fails a correct kernel, and the report blames the
    kernel; its straddling topk was 0, which the launcher refuses."""
    seq_lens, extend_seq_lens = batch
    assert len(seq_lens) == len(extend_seq_lens)
    assert all(0 <= qo <= kv for kv, qo in zip(seq_lens, extend_seq_lens)), batch


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mode_name=st.sampled_from(tuple(FORWARD_MODES)), data=st.data())
def test_every_generated_case_passes_validation_mode(mode_name, data):
    """Whole cases and graph sessions of every forward mode: what validation mode checks of the
    device data holds for every case the suite draws."""
    case, session = data.draw(replay_cases(mode_name)), data.draw(graph_sessions(mode_name))
    for drawn in (case, *session.steps):
        check_values(
            torch.tensor(drawn.seq_lens),
            torch.tensor(drawn.extend_seq_lens),
            token_capacity=drawn.total_tokens,
            max_seqlen_k=drawn.max_seqlen_k,
            req_pool_indices=torch.tensor(drawn.req_pool_indices),
            pool_size=drawn.pool_size,
            nsa_index_topk=drawn.nsa_index_topk,
        )
