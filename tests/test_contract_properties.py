"""Every contract property of every forward mode, against the variants under test, in every launch
mode each declares, under the chosen domain (`--domain`).

By default each forward mode's shipped kernel is judged by its contract; `--variant`, `--forward-mode`
or a convention that implies a mode judges that one variant in that one mode, and the other modes'
tests skip saying so. Each test carries its property family (host-sized laws by law, the other launch
modes by mode), so `--require` decides which may fail the run. One test function per forward mode,
so that its pinned examples and generated cases are that mode's.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import example, given

from properties.edges import member_examples, pinned_examples
from properties.gate_rows import family_of_law
from properties.harness import GRAPH_RESIDENT, HOST_SIZED, MODES, STATIC_WIDTH, hyphenated, in_launch_form
from properties.laws import CONTRACT_LAWS, differential, judge, judge_in_test, laws_of
from properties.strategies import replay_cases


def _family(mode: str, law) -> str:
    return family_of_law(law.__name__) if mode == HOST_SIZED else hyphenated(mode)


def contract_test(mode_name: str):
    """The test of one forward mode's contract: every law of the mode, in every launch mode, on the
    mode's pinned edge examples and generated cases."""
    checks = [
        pytest.param(mode, law, id=f"{mode}-{law.__name__}", marks=pytest.mark.family(_family(mode, law)))
        for mode in MODES
        for law in laws_of(CONTRACT_LAWS, mode_name)
    ]

    @pytest.mark.forward_mode(mode_name)
    @pytest.mark.parametrize("mode, law", checks)
    @given(case=replay_cases(mode_name=mode_name))
    def test(mode, law, case, judged, domain, device):
        # A launch mode the variant does not declare, or another forward mode's test, was skipped at
        # collection (conftest.py).
        fill, adapt = in_launch_form(judged[mode_name], mode, domain)
        judge_in_test(law, fill, adapt(case), device, variant=judged[mode_name], launch=mode)

    for case in pinned_examples(mode_name, gpu=torch.cuda.is_available()).values():
        test = example(case=case)(test)
    return test


test_draft_extend_contract = contract_test("draft-extend")
test_decode_contract = contract_test("decode")
test_target_verify_contract = contract_test("target-verify")


def members_test(mode_name: str):
    """The values law on each member example of the mode (a KPool size, a page size: one example
    each, on which computing that member as another changes a cell), in every launch form."""
    examples = member_examples(mode_name)

    @pytest.mark.forward_mode(mode_name)
    @pytest.mark.family("values")
    @pytest.mark.parametrize("mode", list(MODES), ids=hyphenated)
    @pytest.mark.parametrize("name", list(examples))
    def test(mode, name, judged, domain, device):
        fill, adapt = in_launch_form(judged[mode_name], mode, domain)
        judge(differential, fill, adapt(examples[name]), device, variant=judged[mode_name], launch=mode)

    return test


test_draft_extend_domain_members = members_test("draft-extend")
test_decode_domain_members = members_test("decode")
test_target_verify_domain_members = members_test("target-verify")


@pytest.mark.forward_mode("draft-extend")
@pytest.mark.family("static-width")
@pytest.mark.parametrize("mode", [(GRAPH_RESIDENT, STATIC_WIDTH)], ids=["graph-resident-static-width"])
@pytest.mark.parametrize("law", laws_of(CONTRACT_LAWS, "draft-extend"), ids=lambda law: law.__name__)
@given(case=replay_cases(mode_name="draft-extend"))
def test_draft_extend_static_width_graph_resident(mode, law, case, judged, domain, device):
    """The two launch forms at once, as an engine calls kernel.sglang's drop-in with max_seqlen_k=None
    and static_extend_len=True: each contract law holds on the static-width case, the longest kv
    length taken on the device."""
    fill, adapt = in_launch_form(judged["draft-extend"], GRAPH_RESIDENT, domain)
    judge_in_test(law, fill, adapt(case.static_width()), device, variant=judged["draft-extend"], launch=GRAPH_RESIDENT)
