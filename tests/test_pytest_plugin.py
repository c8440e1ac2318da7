"""The pytest plugin (properties.pytest_plugin), as a repository that installed the package uses it:
from a directory of its own, `pytest --dsa-variant SPEC` collects the gate's rows as items whose ids
name the row and law, fails the row a planted defect breaks (saying its id the moment it fails), and
without --dsa-variant collects nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


def _pytest(*argv, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if not torch.cuda.is_available():
        env["TRITON_INTERPRET"] = "1"
    # -p properties.pytest_plugin where no install registered its entry point (a source checkout).
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "properties.pytest_plugin", "-p", "no:cacheprovider", "-q", *argv],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=900,
    )


def test_without_a_variant_the_plugin_collects_nothing(tmp_path):
    result = _pytest("--collect-only", cwd=tmp_path)
    assert result.returncode == 5 and "no tests collected" in result.stdout, result.stdout + result.stderr


def test_loading_the_plugin_imports_neither_torch_nor_the_suite():
    """A repository that installs the package loads the plugin in every pytest run: it costs nothing."""
    probe = "import sys, properties.pytest_plugin; print(sorted(m for m in ('torch', 'triton', 'hypothesis', 'kernel') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_the_items_are_the_gates_rows_and_laws(tmp_path):
    result = _pytest("--collect-only", "--dsa-variant", "kernel:fill_decode_metadata", "--dsa-forward-mode", "decode", cwd=tmp_path)
    ids = [line.strip() for line in result.stdout.splitlines() if line.startswith("dsa[")]
    assert "dsa[decode]::values::differential" in ids and "dsa[decode]::laws::padding_untouched" in ids, result.stdout
    assert "dsa[decode]::engine-replay" in ids and "dsa[decode]::upstream-bugs" in ids, ids
    assert not any("memcheck" in i or "speed" in i or "campaign" in i for i in ids), "per-pr holds no nightly row"
    nightly = _pytest("--collect-only", "--dsa-variant", "kernel:fill_decode_metadata", "--dsa-forward-mode", "decode", "--dsa-tier", "nightly",
                      cwd=tmp_path)
    assert "dsa[decode]::speed" in nightly.stdout and "dsa[decode]::campaign" in nightly.stdout, nightly.stdout


def test_a_planted_defect_fails_the_row_it_breaks_and_says_so_at_once(tmp_path):
    planted = f"{ROOT}/tests/planted/kpool_16_as_8.py:fill_draft_extend_metadata"
    junit = tmp_path / "live.xml"
    result = _pytest("--dsa-variant", planted, "--dsa-max-examples", "2", "-k", "values", "--dsa-junit-live", str(junit), cwd=tmp_path)
    assert result.returncode == 1, result.stdout[-3000:]
    assert "FAILED dsa[draft-extend]::values::differential" in result.stdout.split("FAILURES")[0], result.stdout[-3000:]
    assert "index_kpool=16" in result.stdout
    cases = ElementTree.parse(junit).getroot()
    assert cases.get("failures") == "1" and any(case.find("failure") is not None for case in cases), ElementTree.tostring(cases)[:2000]


@pytest.mark.nightly  # 195 s of one GPU job's worker (an H100, the per-pr tier): the nightly tier's own campaign
def test_the_nightly_campaign_says_what_is_new_since_the_last_run(tmp_path):
    planted = f"{ROOT}/tests/planted/kpool_16_as_8.py:fill_decode_metadata"
    argv = ("--dsa-variant", planted, "--dsa-forward-mode", "decode", "--dsa-tier", "nightly", "--dsa-max-examples", "1", "-k", "campaign")
    first, second = _pytest(*argv, cwd=tmp_path), _pytest(*argv, cwd=tmp_path)
    assert first.returncode == second.returncode == 1, first.stdout[-2000:]
    assert "dsa nightly campaign (decode): 1 failure(s) new since the last run, 0 seen before" in first.stdout, first.stdout[-2000:]
    assert "0 failure(s) new since the last run, 1 seen before" in second.stdout, second.stdout[-2000:]


def test_on_a_machine_without_a_gpu_the_plugin_picks_the_interpreter_itself(tmp_path):
    """A repository's CPU job sets no TRITON_INTERPRET: the plugin must choose it before any kernel loads."""
    if torch.cuda.is_available():
        pytest.skip("a GPU machine runs the kernels on the GPU")
    env = {key: value for key, value in os.environ.items() if key != "TRITON_INTERPRET"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "properties.pytest_plugin", "-p", "no:cacheprovider", "-q", "--dsa-variant",
         "kernel:fill_decode_metadata", "--dsa-forward-mode", "decode", "--dsa-max-examples", "1", "-k", "values"],
        cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:]


FAULTING_TESTS = '''
import pytest
from properties import faults


class Case:
    def summary(self):
        return "bs=64"


def _assert_on_device():
    raise RuntimeError("CUDA error: device-side assert triggered")


@pytest.mark.parametrize("step", range(40))
def test_step(step):
    if step == 0:
        faults.guarded(_assert_on_device, Case(), law="values")
'''


@pytest.mark.parametrize("workers", [None, "2"])
def test_a_sticky_fault_costs_its_own_test_and_no_other(tmp_path, workers):
    """After a sticky CUDA fault the process's context fails every call. Under pytest-xdist the worker
    ends itself and a fresh one runs the rest of its queue: one test fails, every other runs (a worker
    that skipped instead drained the queue: 937 tests of one H100 run). Without xdist the later tests
    say why they do not run."""
    (tmp_path / "test_steps.py").write_text(FAULTING_TESTS)
    junit = tmp_path / "junit.xml"
    result = _pytest("-rs", "-p", "no:randomly", f"--junitxml={junit}", *(["-n", workers] if workers else []), cwd=tmp_path)
    said = result.stdout + result.stderr
    assert "FAILED test_steps.py::test_step[0]" in said, said
    if workers:
        assert result.returncode == 1 and "1 failed, 39 passed, 1 rescheduled" in said and "skipped" not in said, said
        # The JUnit file holds each test once, with its name: no empty testcase for the rescheduling.
        cases = ElementTree.parse(junit).getroot().iter("testcase")
        names = sorted(case.get("name") or "" for case in cases)
        assert names == sorted(f"test_step[{step}]" for step in range(40)), names
    else:
        assert "1 failed, 39 skipped" in said and "a fresh worker would run it" in said, said
