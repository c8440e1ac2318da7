"""GPU tier: SGLang's own kernel test (test/registered/kernels/test_dsa_metadata.py, fetched at run
time into the peers' cache as the snapshot `sglang-test`) on 0.5.23's kernels and on our drop-ins:
every assertion it fails must be stale against the live-prefix contract (a page-table cell at or
past its row's kv length), none wrong (properties.sglang_kernel_test)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from properties.peers import is_peer_spec, peer_kernel, snapshot_path
from properties.host import BadVariant

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

ROOT = Path(__file__).resolve().parents[2]
TEST_FILE = snapshot_path("sglang-test", "test_dsa_metadata.py")


@pytest.mark.parametrize("kernels", ["kernel.sglang", "sglang==0.5.23"])
def test_sglangs_kernel_test_fails_only_stale_assertions(kernels, tmp_path):
    if not TEST_FILE.is_file():
        pytest.skip(f"{TEST_FILE} is missing: python -m properties peers add sglang-test path/to/test_dsa_metadata.py")
    if is_peer_spec(kernels):
        try:
            peer_kernel(f"{kernels}:decode")
        except BadVariant as error:
            pytest.skip(str(error))
    out = tmp_path / "outcomes.json"
    result = subprocess.run(
        [sys.executable, "-m", "properties.sglang_kernel_test", "--test", str(TEST_FILE), "--kernels", kernels, "--json", str(out)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=600,
    )
    print(result.stdout[-4000:])
    outcomes = json.loads(out.read_text())
    assert outcomes and not any(o["outcome"] in ("wrong", "error") for o in outcomes), result.stdout[-4000:] + result.stderr[-2000:]
