"""The seed's simple and in-place APIs agree with the contract, on both routes the env var selects."""

from __future__ import annotations

import os
from unittest import mock

import pytest
from hypothesis import example, given

import kernel
from properties.edges import EDGE_EXAMPLES
from properties.laws import API_LAWS
from properties.strategies import draft_extend_cases

ROUTES = {"triton": "1", "reference": "0"}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("law", API_LAWS, ids=lambda law: law.__name__)
@example(case=EDGE_EXAMPLES["zero_extend"])
@example(case=EDGE_EXAMPLES["large_batch"])
@given(case=draft_extend_cases(regimes=("small", "large_batch")))
def test_api_law(law, route, case, device):
    with mock.patch.dict(os.environ, {"SGLANG_NSA_USE_TRITON_METADATA": ROUTES[route]}):
        assert kernel.triton_enabled() == (route == "triton")
        law(kernel, case, device)
