"""Every contract property, against the variant under test (`--variant`; the shipped kernel by default)."""

from __future__ import annotations

import pytest
from hypothesis import example, given

from properties.edges import EDGE_EXAMPLES
from properties.harness import MODES, in_mode
from properties.laws import CONTRACT_LAWS
from properties.strategies import draft_extend_cases


def pin_edge_examples(test):
    for case in EDGE_EXAMPLES.values():
        test = example(case=case)(test)
    return test


@pytest.fixture(scope="session", params=MODES)
def contract(request, variant):
    """The variant in each mode it declares: host-sized, and graph-resident (max_seqlen_k=None)."""
    judged = in_mode(variant, request.param)
    if judged is None:
        pytest.skip(f"{variant.name} does not declare the {request.param} mode")
    return judged


@pytest.mark.parametrize("law", CONTRACT_LAWS, ids=lambda law: law.__name__)
@pin_edge_examples
@given(case=draft_extend_cases())
def test_contract_law(law, case, contract, device):
    fill, adapt = contract
    law(fill, adapt(case), device)
