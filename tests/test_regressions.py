"""The regression corpus: every reproducer in tests/regressions/ is replayed on every run, in the
domain it records (`strict` for files that predate domains).

Against the variant under test (the shipped kernel by default) each must pass: a bug found once stays
found. Against the variant it was recorded from, where that is still importable, each must still
fail: a reproducer that no longer reproduces has gone stale.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from properties.harness import SHIPPED_KERNEL, load_variant
from properties.reproducer import load, replay

CORPUS = sorted((Path(__file__).parent / "regressions").glob("*.json"))


def _importable(spec: str) -> bool:
    return importlib.util.find_spec(spec.partition(":")[0]) is not None


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_reproducer_passes_the_variant_under_test(path, variant, device):
    still_wrong = replay(load(path), variant.fill, device)
    assert not still_wrong, f"{path.name} fails again:\n{still_wrong}"


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_reproducer_still_reproduces_its_bug(path, device):
    record = load(path)
    if record["variant"] == SHIPPED_KERNEL or not _importable(record["variant"]):
        pytest.skip(f"recorded from {record['variant']}, which is not kept in the repository")
    assert replay(record, load_variant(record["variant"]).fill, device), f"{path.name} no longer reproduces"


def test_corpus_is_not_empty():
    assert CORPUS, "tests/regressions/ holds no reproducers"
