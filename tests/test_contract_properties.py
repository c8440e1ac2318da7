"""Every contract property, against the variant under test (`--variant`; the shipped kernel by default),
in every mode it declares, under the chosen domain (`--domain`). Each test carries its property family
(host-sized laws by law, the other modes by mode), so `--require` decides which may fail the run."""

from __future__ import annotations

import pytest
from hypothesis import example, given

from properties.edges import EDGE_EXAMPLES
from properties.gate import family_of_law
from properties.harness import MODES, in_mode
from properties.laws import CONTRACT_LAWS
from properties.strategies import draft_extend_cases


def pin_edge_examples(test):
    for case in EDGE_EXAMPLES.values():
        test = example(case=case)(test)
    return test


def _family(mode: str, law) -> str:
    return family_of_law(law.__name__) if mode == "host_sized" else mode


CHECKS = [
    pytest.param(mode, law, id=f"{mode}-{law.__name__}", marks=pytest.mark.family(_family(mode, law)))
    for mode in MODES
    for law in CONTRACT_LAWS
]


@pytest.mark.parametrize("mode, law", CHECKS)
@pin_edge_examples
@given(case=draft_extend_cases())
def test_contract_law(mode, law, case, variant, domain, device):
    # A mode the variant does not declare was skipped at collection (conftest.py).
    fill, adapt = in_mode(variant, mode, domain)
    law(fill, adapt(case), device)
