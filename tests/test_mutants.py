"""Suite power: every planted defect of properties/mutants/ is killed, within the profile's budget.

A survivor is a blind spot of the suite: strengthen the strategies or the laws, never the mutant.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

from properties.mutants import MUTANTS
from properties.mutation import hunt

ROOT = Path(__file__).resolve().parents[1]
# The gate asks only whether each mutant dies; shrinking is for the mutants command's report.
SHRINK_SECONDS = 0.0


@pytest.mark.parametrize("name", MUTANTS)
def test_mutant_is_killed(name):
    result = hunt(MUTANTS[name], max_examples=settings.default.max_examples, shrink_seconds=SHRINK_SECONDS)
    assert result.killed, f"{name} survived the suite"
    print(f"{name}: killed by {result.law} on {result.size} in {result.seconds:.1f}s")


def test_mutants_command_reports_kills_and_passes_controls():
    result = subprocess.run(
        [sys.executable, "-m", "properties", "mutants", "--only", "cu_seqlens_exclusive", "nsa_cu_unclipped",
         "--workers", "1", "--max-examples", "4", "--shrink-seconds", "1"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2/2 mutants killed" in result.stdout
    assert "cu_seqlens_exclusive" in result.stdout and "killed" in result.stdout
