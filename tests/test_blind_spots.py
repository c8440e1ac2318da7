"""Each blind-spot law catches its planted variant by itself: a variant right on every cell the
differential compares, wrong in a way only that law can see, broken on an edge example.

The mutation self-test (tests/test_mutants.py) kills these variants with the first law any of them
breaks; here each must break its own law, so that law, not a neighbour, is what covers the class."""

from __future__ import annotations

import pytest

from properties.edges import EDGE_EXAMPLES
from properties.harness import load_variant
from properties.laws import differential, first_broken_law, inputs_untouched, memory_outside_views_untouched, state_across_calls
from properties.mutants import MUTANTS

CASE = EDGE_EXAMPLES["page_size_64"]


@pytest.mark.parametrize(
    "mutant, law, case",
    [
        ("seq_lens_clamped_in_place", inputs_untouched, CASE),
        ("extend_seq_lens_cumsum_in_place", inputs_untouched, CASE),
        # No spare columns: the row padding past the width is then outside every view, and only the
        # memory-outside-the-views law can see a write there.
        ("page_table_1_masks_row_stride", memory_outside_views_untouched, CASE.with_changes(spare_cols=0)),
        ("token_owners_memoised_by_address", state_across_calls, CASE),
    ],
    ids=lambda value: getattr(value, "__name__", value if isinstance(value, str) else ""),
)
def test_blind_spot_law_catches_its_planted_variant(mutant, law, case, device):
    fill = load_variant(MUTANTS[mutant]).fill
    assert first_broken_law(fill, case.in_domain("strict"), device, (differential,)) is None, f"{mutant} shows in values"
    broken = first_broken_law(fill, case.in_domain("strict"), device, (law,))
    assert broken is not None, f"{law.__name__} does not catch {mutant}"
    print(broken.message)
