"""The declared domain (reference.domain) is what the suite draws: every range's two ends are reached,
by the strategies where a case at that end is cheap, by the pinned extremes where only a GPU can pay
for it. A strategy narrowed below a range's end, or a range widened past what is drawn, fails here."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, find, settings
from hypothesis.errors import NoSuchExample

import torch

from properties.edges import EXTREMES, member_examples, pinned_examples
from properties.harness import run_reference
from properties.strategies import replay_cases
from reference.domain import (
    BATCH_SIZE,
    COLUMNS,
    DOMAIN,
    EXTEND_LEN,
    INDEX_DTYPE,
    KPOOL_SIZE,
    MEMBER_SETS,
    NEXT_N,
    PADDING_FLOOR,
    PAGE_SIZE,
    PAGE_SIZES,
)
from reference.engines import ENGINE_PROFILES
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


# Each finite domain set (reference.domain.MEMBER_SETS): which member a pinned example holds, and the
# same example computed as another member, for the reference to tell apart.
def _examples(mode_name: str) -> dict:
    return {**pinned_examples(mode_name, gpu=True), **member_examples(mode_name)}


def _differs(case, other, names=None) -> bool:
    """Whether the reference writes a different cell on `case` than on `other` (the same example
    computed as another member), over the buffers `names` and the cells both have."""
    ours, theirs = run_reference(case, torch.device("cpu")).after, run_reference(other, torch.device("cpu")).after
    # By attribute: at page size 1 the real table is page_table_1 itself, which named() lists once.
    for name in names or tuple(ours.named()):
        mine, other_buffer = getattr(ours, name), getattr(theirs, name)
        rows, cols = min(mine.shape[0], other_buffer.shape[0]), min(mine.shape[-1], other_buffer.shape[-1])
        if mine.dim() == 1 and not torch.equal(mine[:rows], other_buffer[:rows]):
            return True
        if mine.dim() == 2 and not torch.equal(mine[:rows, :cols], other_buffer[:rows, :cols]):
            return True
    return False


def _kpool_judged(case, member: int) -> bool:
    """k's example has lengths past the top-k in every remainder class modulo k, and computing it as
    any other declared k changes a cell."""
    past = {length % member for length in case.expanded() if length >= case.nsa_index_topk + member}
    every_class = past == set(range(member))
    return every_class and all(_differs(case, case.with_changes(index_kpool=k)) for k in KPOOL_SIZE.members if k != member)


def _page_judged(case, member: int) -> bool:
    others = [p for p in PAGE_SIZES.members if p != member]
    return all(_differs(case, case.with_changes(page_size=p), ("real_page_table",)) for p in others)


def _floor_judged(case, member: int) -> bool:
    """A padded draft-extend example under a profile of that floor differs from it under every
    profile of another floor."""
    mine = [p for p in ENGINE_PROFILES.values() if p.padding_floor == member]
    others = [p for p in ENGINE_PROFILES.values() if p.padding_floor != member]
    if not case.padding_requests() or not mine:
        return False
    judged = case.with_changes(profile=mine[0].name)
    return all(_differs(judged, judged.with_changes(profile=p.name), ("nsa_seqlens_expanded", "nsa_cache_seqlens_int32")) for p in others)


def _dtype_judged(case, member: str) -> bool:
    """Every index input of that dtype, over at least two requests of distinct lengths, so that a
    read at the other element size lands on another request's value or on half of one."""
    dtypes = {case.seq_lens_dtype, case.req_pool_indices_dtype} | ({case.extend_seq_lens_dtype} if case.forward_mode == "draft-extend" else set())
    return dtypes == {member} and len(set(case.seq_lens)) >= 2


MEMBERS = {
    KPOOL_SIZE.argument: (lambda case: case.index_kpool, _kpool_judged),
    PAGE_SIZES.argument: (lambda case: case.page_size, _page_judged),
    PADDING_FLOOR.argument: (lambda case: None, _floor_judged),
    INDEX_DTYPE.argument: (lambda case: case.seq_lens_dtype, _dtype_judged),
}


def test_every_finite_set_of_the_domain_is_judged_here():
    assert set(MEMBERS) == set(MEMBER_SETS)


@pytest.mark.parametrize("mode_name", list(FORWARD_MODES))
@pytest.mark.parametrize(
    ("argument", "member"),
    [(argument, member) for argument, members in MEMBER_SETS.items() for member in members.members],
    ids=lambda value: str(value).replace(" ", "-"),
)
def test_every_declared_member_is_pinned_where_it_changes_a_cell(argument, member, mode_name):
    """Each member of each finite domain set is held by a pinned example on which computing it as
    another member changes a cell (for KPool: with lengths past the top-k in every remainder class
    modulo k). The padding floor is draft-extend's alone."""
    if argument == PADDING_FLOOR.argument and mode_name != DRAFT_EXTEND.name:
        pytest.skip("only draft-extend pads below one")
    held, judged = MEMBERS[argument]
    candidates = [name for name, case in _examples(mode_name).items() if held(case) in (member, None)]
    assert any(judged(_examples(mode_name)[name], member) for name in candidates), (
        f"no pinned {mode_name} example holds {argument} = {member} where computing it as another member changes a cell"
    )


@pytest.mark.parametrize("mode_name", ["decode", "draft-extend"])
def test_a_kpool_size_computed_as_another_fails_the_values_row(mode_name, device):
    """The planted kpool_16_as_8 (k = 16 pooled by 8) fails the values row on the member example of
    k = 16, whatever the generated cases."""
    from properties.gate import FAIL, Gate
    from properties.harness import load_variant

    variant = load_variant(f"tests/planted/kpool_16_as_8.py:fill_{mode_name.replace('-', '_')}_metadata", forward_mode=mode_name)
    card = Gate(variant, device, domain="sglang", required=("values",), max_examples=2, edges=()).run(("values",))
    values = card.verdicts[0]
    assert values.status == FAIL and "index_kpool=16" in values.detail.splitlines()[0], card.table()
