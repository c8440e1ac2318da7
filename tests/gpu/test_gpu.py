"""GPU tier: graph capture and replay, no host sync, bounded specialisation, determinism, memory
safety and large shapes. Every test skips cleanly without a CUDA device."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import kernel
import reference
from properties import past_int32
from properties.cases import ReplayCase
from properties.compare import compare, report
from properties.edges import EDGE_EXAMPLES
from properties.harness import MODES, in_launch_form, run_reference
from properties.runtime_laws import graph_replays_match_reference
from properties.strategies import graph_sessions

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


@pytest.mark.parametrize("mode", MODES)
@given(data=st.data())
def test_graph_replays_match_reference(mode, data, variant, device):
    # A mode the variant does not declare was skipped at collection (conftest.py).
    fill, adapt = in_launch_form(variant, mode)
    session = data.draw(graph_sessions(variant.forward_mode), label="session")
    graph_replays_match_reference(fill, session.adapted(adapt), device)


def test_fused_paths_never_sync_with_the_host():
    case = EDGE_EXAMPLES["page_size_64"]
    seq_lens, extend_seq_lens, req_pool_indices, req_to_token = case.inputs("cuda")
    buffers = case.buffers("cuda")
    expanded = torch.empty(case.total_tokens, dtype=torch.int32, device="cuda")
    clipped = torch.empty_like(expanded)

    def fused_calls():
        kernel.fill_draft_extend_metadata(
            seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **case.options()
        )
        kernel.expand_seqlens_into(extend_seq_lens, seq_lens, case.nsa_index_topk, expanded, clipped)
        kernel.expand_seqlens(extend_seq_lens, seq_lens, case.nsa_index_topk, total_tokens=case.total_tokens)

    fused_calls()  # compiles outside the checked region
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        fused_calls()
        with pytest.raises(RuntimeError):
            seq_lens.sum().item()  # the check is live: a real sync raises
    finally:
        torch.cuda.set_sync_debug_mode(0)


def test_compile_count_stays_within_the_limit(variant, device):
    """Batch sizes 1..4096, max_seqlen_k 1..163,840 and token totals 0..512, in both dtypes: at
    most LIMIT compilations per dtype combination, counted from Triton's own caches."""
    from properties.compiles import count_compiles

    result = count_compiles(variant.fill, device)
    assert result is not None, "this Triton keeps no per-function kernel caches to count"
    print(f"compilations of {variant.name}: {result.describe()}")
    assert result.passed, result.describe()


def test_replays_are_deterministic():
    case = EDGE_EXAMPLES["many_tokens"]
    inputs = case.inputs("cuda")
    pristine = case.buffers("cuda")
    buffers = pristine.clone()
    kernel.fill_draft_extend_metadata(*inputs, buffers, **case.options())
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        kernel.fill_draft_extend_metadata(*inputs, buffers, **case.options())
    first = None
    for replay in range(100):
        for name, t in buffers.named().items():
            t.copy_(getattr(pristine, name))
        graph.replay()
        if first is None:
            first = buffers.clone()
        for name, t in buffers.named().items():
            assert torch.equal(t, getattr(first, name)), f"replay {replay} changed {name}"


@pytest.mark.skipif(shutil.which("compute-sanitizer") is None, reason="compute-sanitizer not installed")
def test_memcheck_reports_no_errors_on_tight_buffers(variant):
    """compute-sanitizer memcheck, with PyTorch's caching allocator off, over the edge examples and
    generated cases on tight buffers, in every mode the variant declares."""
    from properties.memcheck import check_memory

    result = check_memory(variant.spec, variant.convention, max_examples=60)
    print(result.reason)
    assert result.passed, result.reason


def test_large_shapes_match_reference():
    """Three page tables of 10 GiB each (the reference's, the kernel's and the buffers before the
    call): run as the tables past 2^31 cells are, one such table on the machine at a time, the
    memory given back after: on an H100, run by a pytest-xdist worker while a verdict run built its
    tables past 2^31 cells on the same card, it ran out of memory."""
    with past_int32.exclusive():
        _large_shapes_match_reference()


def _large_shapes_match_reference():
    bs, max_extend, context = 4096, 8, 163_840
    generator = torch.Generator().manual_seed(4096)
    seq_lens = torch.randint(max_extend, context + 1, (bs,), generator=generator)
    extend_seq_lens = torch.randint(0, max_extend + 1, (bs,), generator=generator)
    case = ReplayCase(
        seq_lens=tuple(seq_lens.tolist()),
        extend_seq_lens=tuple(extend_seq_lens.tolist()),
        req_pool_indices=tuple(torch.randperm(bs + 8, generator=generator)[:bs].tolist()),
        pool_size=bs + 8,
        context_len=context,
        nsa_index_topk=2048,
        page_size=64,
        max_seqlen_k=context,
        req_to_token_base=-(2**30),
        spare_tokens=5,
        spare_cols=3,
    )
    expected = run_reference(case, "cuda").after
    got = case.buffers("cuda")
    kernel.fill_draft_extend_metadata(*case.inputs("cuda"), got, **case.options())
    rows, cols = got.page_table_1.shape
    print(f"page_table_1 {rows} x {cols} ({rows * got.page_table_1.stride(0) / 2**31:.1f} x 2^31 cells)")
    # The profile's tail cells may keep what they held: the fresh buffers' sentinel.
    mismatches = compare(case, expected, got, before=case.buffers("cuda"))
    assert not mismatches, report(mismatches)


def test_cached_launch_plan_sees_new_contents():
    """The second call with the same tensors takes the cached plan: it must read the tensors'
    current contents, not anything captured when the plan was made."""
    case = EDGE_EXAMPLES["page_size_64"]
    other = case.with_changes(
        seq_lens=tuple(reversed(case.seq_lens)),
        extend_seq_lens=tuple(reversed(case.extend_seq_lens)),
        req_to_token_seed=case.req_to_token_seed + 1,
    )
    inputs = case.inputs("cuda")
    buffers = case.buffers("cuda")
    kernel.fill_draft_extend_metadata(*inputs, buffers, **case.options())
    for static, value in zip(inputs, other.inputs("cuda")):
        static.copy_(value)
    # The second call's tail cells may keep what the first left there.
    before = buffers.clone()
    kernel.fill_draft_extend_metadata(*inputs, buffers, **other.options())
    mirror = case.buffers("cuda")
    reference.fill_draft_extend_metadata(*case.inputs("cuda"), mirror, **case.options())
    reference.fill_draft_extend_metadata(*other.inputs("cuda"), mirror, **other.options())
    mismatches = compare(other, mirror, buffers, before=before)
    assert not mismatches, report(mismatches)


@pytest.mark.parametrize("mode_name", ["decode", "target-verify", "draft-extend"])
def test_a_drop_ins_kept_launch_reads_each_steps_contents(mode_name, monkeypatch):
    """SGLang calls a drop-in with the same tensors step after step: from the second call on it
    launches the direct launch it kept for those arguments, which must read each step's new
    contents (the state law through SGLang's convention, on the edge examples), and it keeps one."""
    import kernel.sglang as drop_ins
    from properties.edges import EDGE_EXAMPLES_BY_MODE
    from properties.harness import HOST_SIZED, load_variant
    from properties.laws import state_across_calls
    from properties.peers import KERNELS

    monkeypatch.delenv("SGLANG_DSA_METADATA_VALIDATE", raising=False)
    monkeypatch.delenv("SGLANG_NSA_METADATA_VALIDATE", raising=False)
    monkeypatch.setattr(drop_ins, "_LAUNCHES", {})
    variant = load_variant(f"kernel.sglang:{KERNELS['plain'][mode_name][1]}", f"sglang-fused-{mode_name}", mode_name)
    fill, read = in_launch_form(variant, HOST_SIZED, "sglang")
    for case in list(EDGE_EXAMPLES_BY_MODE[mode_name].values())[:8]:
        state_across_calls(fill, read(case), torch.device("cuda"))
    assert drop_ins._LAUNCHES, "no drop-in call kept a direct launch"


def test_host_breakdown_times_every_piece(tmp_path, monkeypatch):
    """The host breakdown keeps a direct launch for each drop-in and writes a figure for every piece
    of every mode's call (what the figures are is the benchmark's business, not this test's)."""
    from benchmarks import host_breakdown

    monkeypatch.delenv("SGLANG_NSA_METADATA_VALIDATE", raising=False)
    monkeypatch.delenv("SGLANG_DSA_METADATA_VALIDATE", raising=False)
    assert host_breakdown.main(["--rounds", "1", "--bs", "2", "--out", str(tmp_path)]) == 0
    record = json.loads((tmp_path / "host_breakdown.json").read_text())
    assert set(record["us"]) == {"decode", "target-verify", "draft-extend"}
    for mode, figures in record["us"].items():
        assert len(figures) == 9 and all(len(v) == 1 and v[0] > 0 for v in figures.values()), (mode, figures)
        assert record["ratios"][mode][f"{host_breakdown.DROP_IN} / empty public launch"] > 0
    assert "--- draft-extend" in (tmp_path / "host_breakdown.txt").read_text()
