"""A sticky CUDA fault belongs to the case that raised it (properties.faults), in every command that
searches and in pytest: the CPU tier fakes one (tests/planted/poisons_context_from_bs64.py raises
CUDA's words from 64 requests up, and on every call after that, as a lost context does); the GPU
tier raises real ones (tests/gpu/test_faults.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from properties.faults import ContextLost, CudaFault, fault_kind, first_fault, forget, guarded
from properties.edges import pinned_examples

ROOT = Path(__file__).resolve().parents[1]
POISONS = f"{ROOT}/tests/planted/poisons_context_from_bs64.py:fill_draft_extend_metadata"
# The planted faults each tier raises, with the kind a verdict must name: the CPU's stand-in, and on a
# GPU real sticky faults (through the interpreter an illegal address would leave the process's memory).
PLANTED = {"poisons_context_from_bs64": "device-side assert"}
if torch.cuda.is_available():
    PLANTED.update({"device_assert_from_bs64": "device-side assert", "illegal_address_from_bs64": "illegal address"})


def _run(*argv, cwd=ROOT):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRITON_INTERPRET": "1" if not torch.cuda.is_available() else os.environ.get("TRITON_INTERPRET", "0")}
    return subprocess.run([sys.executable, *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def _batch_sizes(text: str) -> list[int]:
    return [int(bs) for bs in re.findall(r"bs=(\d+)", text)]


@pytest.mark.parametrize(
    ("words", "kind"),
    [
        ("CUDA error: device-side assert triggered", "device-side assert"),
        ("CUDA error: an illegal memory access was encountered", "illegal address"),
        ("CUDA error: unspecified launch failure", "launch failure"),
        ("CUDA error: misaligned address", "misaligned address"),
        ("index 3 is out of bounds", None),
        # Capture errors invalidate the capture, not the context: the streams row judges them.
        ("CUDA error: operation failed due to a previous error during capture: capturing stream has unjoined work", None),
        ("CUDA error: operation not permitted when stream is capturing", None),
    ],
)
def test_fault_kind_reads_cudas_words(words, kind):
    assert fault_kind(RuntimeError(words)) == kind
    assert fault_kind(ValueError("wrapped")) is None
    try:
        try:
            raise RuntimeError(words)
        except RuntimeError as error:
            raise ValueError("the harness's words") from error
    except ValueError as wrapped:
        assert fault_kind(wrapped) == kind


def test_guard_keeps_the_first_faulting_case_and_runs_nothing_after_it():
    cases = list(pinned_examples("draft-extend", gpu=False).values())
    calls = []

    def faulting():
        calls.append(1)
        raise RuntimeError("CUDA error: an illegal memory access was encountered")

    forget()
    try:
        with pytest.raises(CudaFault, match="illegal address"):
            guarded(faulting, cases[0], law="differential", spec=POISONS)
        with pytest.raises(ContextLost, match="lost to a illegal address|lost to an? illegal address"):
            guarded(lambda: calls.append(2), cases[1], law="differential")
        with pytest.raises(CudaFault):  # the faulting case, asked again, is not called again
            guarded(faulting, cases[0], law="differential")
        assert calls == [1]
        assert first_fault().case == cases[0] and first_fault().spec == POISONS
    finally:
        forget()


SEARCHES = {
    "gate": ("-m", "properties", "gate", "--variant", "{spec}", "--only", "values", "--max-examples", "5", "--reproducers", "{tmp}"),
    "campaign": ("-m", "properties", "campaign", "--variant", "{spec}", "--max-examples", "5", "--corpus", "{tmp}"),
    "diff": ("-m", "properties", "diff", "--variant", "{spec}", "--max-examples", "30"),
    "pytest": (
        "-m", "pytest", f"{ROOT}/tests/test_contract_properties.py", "-p", "no:xdist", "-p", "no:randomly", "--variant", "{spec}",
        "-k", "draft_extend_contract and host_sized-differential", "-q",
    ),
}


@pytest.mark.parametrize("planted", list(PLANTED))
@pytest.mark.parametrize("command", list(SEARCHES))
def test_a_sticky_fault_is_reported_on_the_case_that_raised_it(command, planted, tmp_path):
    """Every searching command, and pytest, reports the first case of 64 requests or more with the
    fault's kind, never a smaller bystander after it, and a fresh process faults again on it (run
    in `tmp_path`, where the commands without a directory for reproducers put theirs)."""
    kind, spec = PLANTED[planted], f"{ROOT}/tests/planted/{planted}.py:fill_draft_extend_metadata"
    result = _run(*(arg.format(tmp=tmp_path, spec=spec) for arg in SEARCHES[command]), cwd=tmp_path)
    said = result.stdout + result.stderr
    assert result.returncode == 1, said[-3000:]
    reported = [line for line in said.splitlines() if kind in line and "bs=" in line]
    assert reported and all(bs >= 64 for line in reported for bs in _batch_sizes(line)), said[-3000:]
    confirmation = [line for line in said.splitlines() if "fresh process" in line]
    assert any("confirmed in a fresh process" in line for line in confirmation), confirmation or said[:3000]
    reproducer = re.search(r"replay (\S+\.json)", said).group(1)
    replayed = _run("-m", "properties", "replay", reproducer, cwd=tmp_path)
    assert replayed.returncode == 1 and f"a CUDA fault ({kind})" in replayed.stdout, replayed.stdout
