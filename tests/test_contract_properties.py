"""Every contract property, against the variant under test (`--variant`; the shipped kernel by default)."""

from __future__ import annotations

import pytest
from hypothesis import example, given

from properties.edges import EDGE_EXAMPLES
from properties.laws import CONTRACT_LAWS
from properties.strategies import draft_extend_cases


def pin_edge_examples(test):
    for case in EDGE_EXAMPLES.values():
        test = example(case=case)(test)
    return test


@pytest.mark.parametrize("law", CONTRACT_LAWS, ids=lambda law: law.__name__)
@pin_edge_examples
@given(case=draft_extend_cases())
def test_contract_law(law, case, variant, device):
    law(variant.fill, case, device)
