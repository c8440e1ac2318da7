"""The seed's simple and in-place APIs agree with the contract, on both routes the env var selects."""

from __future__ import annotations

import os
from unittest import mock

import pytest
import torch
from hypothesis import example, given

import kernel
import reference
from properties.edges import EDGE_EXAMPLES
from properties.laws import API_LAWS
from properties.strategies import replay_cases
from reference.modes import DRAFT_EXTEND

ROUTES = {"triton": "1", "reference": "0"}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("law", API_LAWS, ids=lambda law: law.__name__)
@example(case=EDGE_EXAMPLES["zero_extend"])
@example(case=EDGE_EXAMPLES["large_batch"])
@given(case=replay_cases(DRAFT_EXTEND.name, ("small", "large_batch")))
def test_api_law(law, route, case, device):
    with mock.patch.dict(os.environ, {"SGLANG_NSA_USE_TRITON_METADATA": ROUTES[route]}):
        assert kernel.triton_enabled() == (route == "triton")
        law(kernel, case, device)


def test_without_triton_every_api_routes_to_the_reference(device):
    """Triton failing to import leaves TRITON_AVAILABLE false: the same calls then take the
    reference path and give the contract's result."""
    case = EDGE_EXAMPLES["page_size_64"]
    with mock.patch.object(kernel, "TRITON_AVAILABLE", False), mock.patch.object(kernel, "_launcher", None):
        assert not kernel.triton_enabled()
        for law in API_LAWS:
            law(kernel, case, device)
        inputs = case.inputs(device)
        got = case.buffers(device)
        kernel.fill_draft_extend_metadata(*inputs, got, **case.options())
    expected = case.buffers(device)
    reference.fill_draft_extend_metadata(*case.inputs(device), expected, **case.options())
    for name, t in expected.named().items():
        assert torch.equal(getattr(got, name), t), name
