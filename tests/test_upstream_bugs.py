"""The bugs the engines really had (properties.upstream): each pinned case passes the variants under
test, in every forward mode it runs in, and fails the planted defect of its class
(tests/regressions/upstream_bugs.py) on the tier where that can show (a GPU only where the case
needs one)."""

from __future__ import annotations

import re

import pytest
import torch

from properties.harness import load_variant
from properties.past_int32 import NotEnoughMemory
from properties.upstream import UPSTREAM_BUGS
from tests.regressions.upstream_bugs import PLANTED, planted_specs

BUGS = {bug.name: bug for bug in UPSTREAM_BUGS}
# Planted defects whose class shows only on the CPU, and why.
CPU_ONLY = {
    "static_against_variable_extend": "a width of 0 divides by zero: the CPU raises, a GPU's integer division by zero yields garbage owners the planted defect never stores",
}


def _runs_here(bug) -> None:
    if bug.tier == "gpu" and not torch.cuda.is_available():
        pytest.skip(f"{bug.name}'s case needs a GPU ({bug.what})")


@pytest.mark.parametrize("name", list(BUGS))
def test_the_variants_under_test_hold_the_upstream_case(name, judged, device):
    bug = BUGS[name]
    _runs_here(bug)
    fills = {mode: judged[mode].fill for mode in bug.modes if mode in judged}
    if not fills:
        pytest.skip(f"a case of {', '.join(bug.modes)}; this run judges {', '.join(judged)}")
    try:
        bug.check(fills, device)
    except NotEnoughMemory as missing:
        pytest.skip(f"not run: {missing}")


@pytest.mark.parametrize("name", list(BUGS))
def test_the_planted_defect_of_its_class_fails_it(name, device):
    bug = BUGS[name]
    _runs_here(bug)
    specs = planted_specs(name)
    planted, convention = PLANTED[name]
    assert specs, f"{planted} has no fill of {', '.join(bug.modes)}"
    fills = {mode: load_variant(spec, convention, mode).fill for mode, spec in specs.items()}
    if name in CPU_ONLY and device.type == "cuda":
        pytest.skip(CPU_ONLY[name])
    try:
        with pytest.raises((AssertionError, RuntimeError, ValueError)):  # LawBroken and PastInt32Wrong are AssertionErrors
            bug.check(fills, device)
    except NotEnoughMemory as missing:
        pytest.skip(f"not run: {missing}")


def test_every_record_names_its_threads_and_has_a_planted_defect():
    assert set(PLANTED) == set(BUGS)
    for bug in UPSTREAM_BUGS:
        assert bug.threads and all(("#" in thread or "test_" in thread or " " in thread) for thread in bug.threads), bug.name


def test_validation_mode_names_what_the_upstream_callers_got_wrong(device):
    """The shipped kernel's validation mode refuses, naming it, what #19016's caller sent (seq_lens +
    next_n past the width) and a broken static_extend_len promise (#15429, #27545), before writing."""
    import kernel
    from properties.upstream import AT_LIMIT, STATIC_EQUAL

    broken = STATIC_EQUAL.with_changes(extend_seq_lens=(3, 1, 3))
    for case, fill, says in (
        (AT_LIMIT, kernel.fill_target_verify_metadata, "exceeds max_seqlen_k=4096"),
        (broken, kernel.fill_draft_extend_metadata, "extend_seq_lens[1]=1"),
    ):
        buffers = case.buffers(device)
        before = buffers.clone()
        with pytest.raises(ValueError, match=re.escape(says)):
            fill(*case.inputs(device), buffers, **case.options(), validate=True)
        assert all(torch.equal(a, b) for a, b in zip(buffers.named().values(), before.named().values())), "written before refusing"
