"""The regression corpus: every reproducer in tests/regressions/ is replayed on every run, in the
forward mode and the domain it records (draft-extend and `strict` for files that predate them).

Against the variant under test in its mode (each mode's shipped kernel by default) each must pass: a
bug found once stays found. Against the variant it was recorded from, where that is still importable, each must still
fail: a reproducer that no longer reproduces has gone stale.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from properties.harness import SHIPPED_KERNELS, load_variant
from properties.reproducer import load, replay
from reference.modes import DEFAULT_FORWARD_MODE

CORPUS = sorted((Path(__file__).parent / "regressions").glob("*.json"))


def _importable(spec: str) -> bool:
    return importlib.util.find_spec(spec.partition(":")[0]) is not None


def _mode(record: dict) -> str:
    return record.get("forward_mode", DEFAULT_FORWARD_MODE)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_reproducer_passes_the_variant_under_test(path, judged, device):
    record = load(path)
    if _mode(record) not in judged:
        pytest.skip(f"a {_mode(record)} reproducer; this run judges {', '.join(judged)}")
    still_wrong = replay(record, judged[_mode(record)].fill, device)
    assert not still_wrong, f"{path.name} fails again:\n{still_wrong}"


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_reproducer_still_reproduces_its_bug(path, device):
    record = load(path)
    if record["variant"] in SHIPPED_KERNELS.values() or not _importable(record["variant"]):
        pytest.skip(f"recorded from {record['variant']}, which is not kept in the repository")
    fill = load_variant(record["variant"], forward_mode=_mode(record)).fill
    assert replay(record, fill, device), f"{path.name} no longer reproduces"


def test_corpus_covers_every_forward_mode():
    assert {_mode(load(path)) for path in CORPUS} == set(SHIPPED_KERNELS), "tests/regressions/ lacks a forward mode's reproducers"
