"""GPU tier: tables past 2^31 cells (properties.past_int32), in every forward mode: the variant under
test gathers from pool rows and stores token rows whose offsets pass 2^31, and the int32-offset
mutants and the planted int32 offsets fail there, in a process of their own (a wrapped offset faults, and the CUDA context that
raised it is lost). Skips saying how much memory is missing where the GPU has too little."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from properties import past_int32
from properties.mutants._kernel_patches import PATCHES
from properties.mutants import mutants_of
from reference.modes import FORWARD_MODES

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

ROOT = Path(__file__).resolve().parents[2]


def _needs(mode_name: str) -> None:
    free, _ = torch.cuda.mem_get_info()
    need = past_int32.bytes_needed(mode_name)
    if free < need * 1.2:
        pytest.skip(f"needs {need * 1.2 / 2**30:.1f} GiB of free GPU memory, {free / 2**30:.1f} GiB free")


@pytest.mark.parametrize("case", [past_int32.gather_case, past_int32.store_case], ids=["gather", "store"])
@pytest.mark.parametrize("mode_name", list(past_int32.TOKENS_PER_REQUEST))
def test_rows_past_2_to_the_31_are_right(mode_name, case, judged):
    if mode_name not in judged:
        pytest.skip(f"no {mode_name} variant under test")
    rows, pool_rows, seq_lens = case(mode_name)
    try:
        past_int32.run_case(judged[mode_name].fill, mode_name, rows, pool_rows, seq_lens)
    except past_int32.NotEnoughMemory as missing:
        pytest.skip(f"not run: {missing}")


PLANTED = [
    (f"tests/planted/{name}.py:{FORWARD_MODES[mode_name].fill_name}", mode_name)
    for name in ("gather_offset_int32", "store_offset_int32")
    for mode_name in past_int32.TOKENS_PER_REQUEST
]
MUTANTS = [(mutants_of("decode")[name], "decode") for name, patch in PATCHES.items() if patch.shows_in == "past_int32"]


@pytest.mark.parametrize(("spec", "mode_name"), PLANTED + MUTANTS, ids=[spec.split("/")[-1] + "-" + mode for spec, mode in PLANTED + MUTANTS])
def test_int32_offsets_fail_past_2_to_the_31(spec, mode_name):
    """The planted int32 offsets (tests/planted) and the Triton mutants that form an offset in int32
    are right on every case below the wrap, and wrong past it, in a process of their own."""
    _needs(mode_name)
    result = subprocess.run(
        [sys.executable, "-m", "properties", "past-int32", "--variant", spec, "--forward-mode", mode_name],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 1, result.stdout + result.stderr[-2000:]
    assert "past 2^31" in result.stdout, result.stdout
