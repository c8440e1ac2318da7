"""The GPU workflow anyone can copy (.github/workflows/gpu.yml) is a valid GitHub Actions workflow
(GitHub's schema, through check-jsonschema, which the test extra installs), runs the per-PR tier on a
pull request and the nightly tier on a schedule through .ci/gpu, and keeps the JUnit XML, the JSON
scorecards and the reproducers."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "gpu.yml"


def test_the_workflow_passes_githubs_schema():
    if importlib.util.find_spec("check_jsonschema") is None:
        pytest.skip("check-jsonschema is not installed (pip install -e '.[test]')")
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)], capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_workflow_runs_both_tiers_and_keeps_what_they_found():
    text = WORKFLOW.read_text()
    assert "pull_request:" in text and "schedule:" in text
    assert '.ci/gpu "${{ steps.tier.outputs.tier }}"' in text and "tier=per-pr" in text and "tier=nightly" in text
    assert all(kept in text for kept in ("gpu-out/*.xml", "gpu-out/*.json", "dsa-reproducers/"))


def test_ci_gpu_refuses_an_unknown_tier():
    result = subprocess.run([str(ROOT / ".ci" / "gpu"), "weekly"], capture_output=True, text=True, env={"OUT": "/tmp/dsa-ci-gpu-test", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2 and "usage: .ci/gpu [per-pr|nightly]" in result.stderr
