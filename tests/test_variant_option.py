"""`pytest --variant MODULE:CALLABLE` judges that callable instead of the shipped kernel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_suite(variant: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable, "-m", "pytest", "tests/test_contract_properties.py",
            "--variant", variant, "-k", "differential or padding_untouched",
            "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "--hypothesis-profile", "ci",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_a_planted_bug_fails_the_suite():
    result = run_suite("tests.planted.column_past_max_seqlen_k:fill_draft_extend_metadata")
    assert result.returncode == 1, result.stdout[-3000:]
    assert "past max_seqlen_k" in result.stdout


def test_the_reference_passes_the_suite():
    result = run_suite("reference:fill_draft_extend_metadata")
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.parametrize("spec", ["no_colon", "properties.nowhere:fill", "reference:no_such_callable"])
def test_a_bad_variant_name_is_refused(spec):
    result = run_suite(spec)
    assert result.returncode != 0
