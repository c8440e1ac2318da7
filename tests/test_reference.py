"""The oracle of record checked against the plain-list statement of the same law, in every forward mode."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from properties.edges import EDGE_EXAMPLES_BY_MODE, EXTREMES
from properties.harness import run_reference
from properties.strategies import replay_cases
from reference.engines import ENGINE_PROFILES
from reference.lists import expected_buffers
from reference.modes import FORWARD_MODES


def reference_matches_list_statement(case) -> None:
    r = run_reference(case, "cpu")
    named = {name: t.tolist() for name, t in case.named_inputs(r.inputs).items()}
    initial = {name: t.tolist() for name, t in r.before.named().items()}
    want = expected_buffers(
        case.mode, named["seq_lens"], named.get("extend_seq_lens"), named["req_pool_indices"], named["req_to_token"], initial,
        nsa_index_topk=case.nsa_index_topk, page_size=case.page_size, max_seqlen_k=case.max_seqlen_k, next_n=case.next_n,
        padding_floor=case.engine.padding_floor, index_kpool=case.index_kpool,
    )
    got = {name: t.tolist() for name, t in r.after.named().items()}
    assert set(got) == set(want)
    for name in want:
        assert got[name] == want[name], f"{case.forward_mode}: reference and list statement disagree on {name}"


@given(data=st.data())
@pytest.mark.parametrize("profile", ENGINE_PROFILES)
@pytest.mark.parametrize("mode_name", FORWARD_MODES)
def test_reference_matches_list_statement(mode_name, profile, data):
    case = data.draw(replay_cases(mode_name, ("small", "padded_bucket")))
    reference_matches_list_statement(case.with_changes(profile=profile))


@pytest.mark.parametrize("mode_name", FORWARD_MODES)
def test_reference_matches_list_statement_on_edge_examples(mode_name):
    # The list statement walks every cell in Python: the long and the extreme cases are the eager
    # reference's alone.
    for name, case in EDGE_EXAMPLES_BY_MODE[mode_name].items():
        if name not in ("long_context", *EXTREMES):
            reference_matches_list_statement(case)
