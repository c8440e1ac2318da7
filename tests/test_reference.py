"""The oracle of record checked against the plain-list statement of the same law."""

from __future__ import annotations

from hypothesis import given

from properties.edges import EDGE_EXAMPLES
from properties.harness import run_reference
from properties.strategies import draft_extend_cases
from reference.lists import expected_buffers


def reference_matches_list_statement(case) -> None:
    r = run_reference(case, "cpu")
    seq_lens, extend_seq_lens, req_pool_indices, req_to_token = (t.tolist() for t in r.inputs)
    initial = {name: t.tolist() for name, t in r.before.named().items()}
    want = expected_buffers(
        seq_lens, extend_seq_lens, req_pool_indices, req_to_token, initial, **case.options()
    )
    got = {name: t.tolist() for name, t in r.after.named().items()}
    for name in want:
        assert got[name] == want[name], f"reference and list statement disagree on {name}"


@given(case=draft_extend_cases(regimes=("small",)))
def test_reference_matches_list_statement(case):
    reference_matches_list_statement(case)


def test_reference_matches_list_statement_on_edge_examples():
    for name, case in EDGE_EXAMPLES.items():
        if name != "long_context":
            reference_matches_list_statement(case)
