"""`pytest --variant MODULE:CALLABLE` judges that callable instead of the shipped kernel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_suite(variant: str, select: str = "differential or padding_untouched") -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable, "-m", "pytest", "tests/test_contract_properties.py",
            "--variant", variant, "-k", select,
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


def test_a_declared_launch_form_that_is_wrong_fails_the_suite_not_as_xfail():
    """graph_resident is not in --require's list a user gives, but it is required by default where
    the variant declares it: its failures fail the run."""
    result = run_suite("tests/planted/graph_resident_drops_last_request.py:fill_draft_extend_metadata", "graph_resident-differential")
    assert result.returncode == 1, result.stdout[-3000:]
    assert "1 failed" in result.stdout and "xfail" not in result.stdout, result.stdout[-3000:]
    host_sized = run_suite("tests/planted/graph_resident_drops_last_request.py:fill_draft_extend_metadata", "host_sized-differential")
    assert host_sized.returncode == 0, host_sized.stdout[-3000:]


def test_the_reference_passes_the_suite():
    result = run_suite("reference:fill_draft_extend_metadata")
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.parametrize("spec", ["no_colon", "properties.nowhere:fill", "reference:no_such_callable"])
def test_a_bad_variant_name_is_refused(spec):
    result = run_suite(spec)
    assert result.returncode != 0


def test_a_hung_test_fails_and_the_run_goes_on(tmp_path):
    """--test-timeout (on by default on a GPU, where a CUDA hang cannot be interrupted): a test still
    running then ends its worker with every stack printed, and is reported failed; the others run."""
    (tmp_path / "test_hangs.py").write_text("import time\n\ndef test_hangs():\n    time.sleep(120)\n\ndef test_returns():\n    pass\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(tmp_path / "test_hangs.py"), "-p", "conftest", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), "-n", "2", "--test-timeout", "3", "-q"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 1, result.stdout[-3000:]
    assert "1 failed, 1 passed" in result.stdout and "crashed while running" in result.stdout, result.stdout[-3000:]


def test_the_conventions_agree_on_what_a_kwargs_variant_is_offered():
    """A variant that takes **kwargs is offered every optional keyword under every convention: the
    contract's profile options and promises, SGLang's KPool size and static width, the page size once."""
    from properties.conventions import OPTIONAL_KEYWORDS, PAGE_SIZE_NAMES, SGLANG_KEYWORDS, _accepted, contract

    def anything(*args, **kwargs):
        pass

    offered = _accepted(anything, "anything", SGLANG_KEYWORDS + ("physical_page_size", "index_kpool"), ())
    assert {"index_kpool", "static_extend_len", PAGE_SIZE_NAMES[0]} <= offered and PAGE_SIZE_NAMES[1] not in offered
    assert contract(anything, "anything", "draft-extend").supports_index_kpool
    assert "index_kpool" in OPTIONAL_KEYWORDS and "static_extend_len" in OPTIONAL_KEYWORDS
