"""GPU tier: the gate's rows that only a GPU can show, against the variant under test and against
planted defects: the engine's padded replays captured in a graph, the caller's stream, a host sync
found anywhere in the range the engine sends, capture failures explained from the error itself, and
compute-sanitizer's initcheck. Every test skips cleanly without a CUDA device."""

from __future__ import annotations

import shutil

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from properties.edges import EDGE_EXAMPLES
from properties.gate import FAIL, PASS, Gate
from properties.harness import MODES, in_launch_form, load_variant
from properties.failures import LawBroken
from properties.runtime_laws import engine_replays_match_reference, graph_replays_match_reference, runs_on_callers_stream
from properties.strategies import engine_sessions
from properties.timing import SPEED_CELLS

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

PLANTED = "tests/planted/"


@pytest.mark.parametrize("mode", MODES)
@given(data=st.data())
def test_engine_replays_match_reference(mode, data, variant, device):
    fill, adapt = in_launch_form(variant, mode)
    session = data.draw(engine_sessions(variant.forward_mode), label="session")
    engine_replays_match_reference(fill, session.adapted(adapt), device)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["padded_bucket", "page_size_64", "empty_batch"])
def test_runs_on_the_callers_stream(mode, name, variant, device):
    fill, adapt = in_launch_form(variant, mode)
    runs_on_callers_stream(fill, adapt(EDGE_EXAMPLES[name]), device)


def row(spec, family, device, convention="contract", max_examples=20):
    judge = Gate(load_variant(spec, convention), device, domain="sglang", required=(family,), max_examples=max_examples)
    return judge.run((family,)).verdicts[0]


@pytest.mark.parametrize("name, says", [
    ("forks_and_never_joins", "never joins back"),
    ("never_waits_for_the_caller", "never waits for that stream"),
])
def test_a_private_stream_fails_the_streams_row_on_every_run(name, says, device):
    for _ in range(3):
        verdict = row(f"{PLANTED}private_stream.py:{name}", "streams", device)
        assert verdict.status == FAIL and says in verdict.detail, verdict.detail


def test_a_private_stream_is_explained_as_a_stream_at_capture(device):
    fill = load_variant(f"{PLANTED}private_stream.py:forks_and_never_joins").fill
    case = EDGE_EXAMPLES["page_size_64"]
    with pytest.raises(LawBroken, match="never joins back into the caller's: .*unjoined"):
        graph_replays_match_reference(fill, _one_step(case), device)


def test_a_host_sync_is_explained_as_a_sync_at_capture(device):
    fill = load_variant("reference:fill_draft_extend_metadata").fill
    with pytest.raises(LawBroken, match="synchronizes with the host or copies through pageable memory .*capturing"):
        graph_replays_match_reference(fill, _one_step(EDGE_EXAMPLES["page_size_64"]), device)


def test_an_exception_is_explained_as_the_variants_own(device):
    fill = load_variant(f"{PLANTED}raises_past_two_requests.py:fill_draft_extend_metadata").fill
    with pytest.raises(LawBroken, match="the variant raised ValueError: three requests") as caught:
        graph_replays_match_reference(fill, _one_step(EDGE_EXAMPLES["decode_like"]), device)
    assert "synchroniz" not in str(caught.value)


def _one_step(case):
    from properties.strategies import GraphSession

    return GraphSession((case,), max(case.extend_seq_lens), case.max_seqlen_k)


def test_a_sync_past_512_requests_fails_no_sync_shrunk_to_just_past_it(device):
    verdict = row(f"{PLANTED}syncs_past_512.py:fill_draft_extend_metadata", "no-sync", device, max_examples=30)
    assert verdict.status == FAIL and "synchronizes with the host" in verdict.detail, verdict.detail
    assert "bs=513 " in verdict.detail, verdict.detail


def test_the_shipped_kernel_passes_the_gpu_rows(variant, device):
    for family in ("engine-replay", "no-sync", "streams"):
        verdict = row(variant.spec, family, device, variant.convention, max_examples=10)
        assert verdict.status == PASS, f"{family}: {verdict.detail}"


@pytest.mark.skipif(shutil.which("compute-sanitizer") is None, reason="compute-sanitizer not installed")
def test_initcheck_catches_a_read_of_cells_never_written(device):
    from properties.memcheck import check_memory

    planted = check_memory(f"{PLANTED}reads_unwritten.py:fill_draft_extend_metadata", max_examples=2, tool="initcheck")
    assert planted.errors, planted.reason
    shipped = check_memory("kernel:fill_draft_extend_metadata", max_examples=2, tool="initcheck")
    assert shipped.passed, shipped.reason


def test_the_speed_row_is_a_verdict(device):
    """A correct variant 30 times slower fails the speed row with its ratio table; the shipped kernel
    against itself is within the default limit, and the figures go into the verdict (and the JSON)."""
    slow = row(f"{PLANTED}slow_repeats_the_fill.py:fill_draft_extend_metadata", "speed", device)
    assert slow.status == FAIL and slow.detail.startswith("slower: "), slow.detail
    assert min(r["ratio"] for r in slow.figures) > 10, slow.detail
    shipped = row("kernel:fill_draft_extend_metadata", "speed", device)
    assert shipped.status == PASS and len(shipped.figures) == len(SPEED_CELLS), shipped.detail


@pytest.mark.parametrize("planted", ["slow_from_bs_1024", "slow_past_32k_columns"])
def test_the_speed_row_sees_the_declared_range(planted, device):
    """A variant slow only from bs 1,024 up, or only past 32k columns, fails `--require speed`: the
    row's cells reach bs 4,096 and a million columns."""
    slow = row(f"{PLANTED}{planted}.py:fill_draft_extend_metadata", "speed", device)
    assert slow.status == FAIL and slow.detail.startswith("slower: "), slow.detail
