"""The declared domain (reference.domain) is what the suite draws: every range's two ends are reached,
by the strategies where a case at that end is cheap, by the pinned extremes where only a GPU can pay
for it. A strategy narrowed below a range's end, or a range widened past what is drawn, fails here."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, find, settings
from hypothesis.errors import NoSuchExample

from properties.edges import EXTREMES, pinned_examples
from properties.strategies import replay_cases
from reference.domain import BATCH_SIZE, COLUMNS, DOMAIN, EXTEND_LEN, NEXT_N, PAGE_SIZE
from reference.modes import DRAFT_EXTEND, FORWARD_MODES, TARGET_VERIFY

SEARCH = settings(max_examples=20_000, database=None, deadline=None, suppress_health_check=list(HealthCheck))

# What a case holds of each argument, and the forward mode that draws it (None: every mode).
DRAWN = {
    PAGE_SIZE.argument: (lambda case: (case.page_size,), None),
    EXTEND_LEN.argument: (lambda case: case.extend_seq_lens, DRAFT_EXTEND.name),
    NEXT_N.argument: (lambda case: (case.next_n,), TARGET_VERIFY.name),
    BATCH_SIZE.argument: (lambda case: (case.bs,), None),
    COLUMNS.argument: (lambda case: (case.max_seqlen_k,), None),
}
# Ends a CPU-tier case cannot afford: only the pinned extremes, run where a GPU is, reach them.
GPU_ENDS = {(BATCH_SIZE.argument, "most"), (COLUMNS.argument, "most")}


def test_every_argument_of_the_domain_is_drawn():
    assert set(DRAWN) == set(DOMAIN)


@pytest.mark.parametrize("end", ["least", "most"])
@pytest.mark.parametrize("argument", DOMAIN)
def test_each_end_of_each_range_is_reached(argument, end):
    values, mode = DRAWN[argument]
    target = getattr(DOMAIN[argument], end)
    modes = [mode] if mode else list(FORWARD_MODES)
    if (argument, end) in GPU_ENDS:
        for name in modes:
            reached = [case_name for case_name in EXTREMES if target in values(pinned_examples(name, gpu=True)[case_name])]
            assert reached, f"no pinned extreme of {name} reaches {argument} = {target:,}"
        return
    for name in modes:
        case = find(replay_cases(name), lambda case: target in values(case), settings=SEARCH)
        assert target in values(case)


@pytest.mark.parametrize("argument", DOMAIN)
def test_nothing_is_drawn_past_a_range(argument):
    values, mode = DRAWN[argument]
    low, high = DOMAIN[argument].least, DOMAIN[argument].most
    for name in [mode] if mode else list(FORWARD_MODES):
        outside = lambda case: any(not low <= v <= high for v in values(case))  # noqa: E731
        with pytest.raises(NoSuchExample):
            find(replay_cases(name), outside, settings=settings(SEARCH, max_examples=300))


def test_a_variant_wrong_only_at_the_top_of_a_range_fails_the_gate(device):
    """Right at every page size to 128, wrong past it: the gate's generated cases reach 1,024."""
    from properties.gate import FAIL, Gate
    from properties.harness import load_variant

    variant = load_variant("tests/planted/real_table_skipped_past_page_128.py:fill_draft_extend_metadata")
    card = Gate(variant, device, domain="sglang", required=("values",), max_examples=60, edges=()).run(("values",))
    values = card.verdicts[0]
    assert values.status == FAIL, card.table()
    assert f"page_size={PAGE_SIZE.most}" in values.detail.splitlines()[0] and "real_page_table" in values.detail, values.detail


@pytest.mark.parametrize("name", ["gather_offset_int32", "store_offset_int32"])
def test_an_int32_offset_passes_every_case_a_cpu_affords_and_says_what_was_not_run(name, device):
    """The planted int32 offsets are wrong only past 2^31 cells: the CPU tier's values row passes
    them and says that the tables past 2^31 were not run here (tests/gpu/test_past_int32.py fails
    them on a GPU)."""
    from properties.gate import PASS, Gate
    from properties.harness import load_variant

    if device.type == "cuda":
        pytest.skip("on a GPU the values row runs the tables past 2^31 cells, which tests/gpu/test_past_int32.py covers")
    variant = load_variant(f"tests/planted/{name}.py:fill_draft_extend_metadata")
    card = Gate(variant, device, domain="sglang", required=("values",), max_examples=10, past_int32=True).run(("values",))
    values = card.verdicts[0]
    assert values.status == PASS, card.table()
    assert "tables past 2^31 cells: not run, no CUDA device" in values.detail, values.detail
