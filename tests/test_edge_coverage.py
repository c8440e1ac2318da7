"""The strategies reach every edge class, and each pinned example is of the class it is pinned for."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, find, settings

from properties.cases import EDGE_CLASSES
from properties.edges import EDGE_EXAMPLES
from properties.strategies import draft_extend_cases


@pytest.mark.parametrize("edge", EDGE_CLASSES)
def test_pinned_example_exercises_its_edge(edge):
    assert edge in EDGE_EXAMPLES[edge].edge_classes()


@pytest.mark.parametrize("edge", EDGE_CLASSES)
def test_default_strategy_reaches_edge(edge):
    search = settings(
        max_examples=2_000,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    found = find(draft_extend_cases(), lambda case: edge in case.edge_classes(), settings=search)
    assert edge in found.edge_classes()
