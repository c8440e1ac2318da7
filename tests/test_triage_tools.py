"""The fuzz, replay and diff commands, end to end, on the planted bug of tests/planted/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLANTED = "tests.planted.column_past_max_seqlen_k:fill_draft_extend_metadata"
SHIPPED = "kernel:fill_draft_extend_metadata"


def properties(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "properties", *argv],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_fuzz_writes_a_self_contained_reproducer_that_replay_reports(tmp_path):
    fuzzed = properties("fuzz", "--variant", PLANTED, "--max-examples", "2", "--laws", "differential", "--corpus", str(tmp_path))
    assert fuzzed.returncode == 1, fuzzed.stdout + fuzzed.stderr
    assert "edge classes:" in fuzzed.stdout
    [path] = tmp_path.glob("*.json")
    record = json.loads(path.read_text())
    assert record["variant"] == PLANTED and record["law"] == "differential"
    for name in ("seq_lens", "extend_seq_lens", "req_pool_indices", "req_to_token"):
        assert set(record["inputs"][name]) == {"dtype", "shape", "strides", "values"}
    assert set(record["buffers"]["page_table_1"]) == {"shape", "strides"}
    assert {"sentinel", "options", "real_page_table_is_page_table_1"} <= set(record)
    assert set(record["options"]) == {"nsa_index_topk", "page_size", "max_seqlen_k"}
    assert set(record["environment"]) == {"torch", "triton", "device"}

    replayed = properties("replay", str(path))
    assert replayed.returncode == 1
    assert "outside what the contract writes" in replayed.stdout
    assert "past max_seqlen_k" in replayed.stdout and "(request " in replayed.stdout
    fixed = properties("replay", str(path), "--variant", SHIPPED)
    assert fixed.returncode == 0, fixed.stdout


def test_diff_names_the_side_the_reference_takes():
    result = properties("diff", "--variant", PLANTED, "--against", SHIPPED, "--max-examples", "20", "--shrink-seconds", "5")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"the reference sides with {SHIPPED}" in result.stdout


def test_diff_of_agreeing_variants_exits_zero():
    result = properties("diff", "--variant", "reference:fill_draft_extend_metadata", "--against", SHIPPED, "--max-examples", "5")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "agree on all" in result.stdout


def test_fuzz_shards_over_workers():
    result = properties("fuzz", "--workers", "2", "--max-examples", "2", "--laws", "differential")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[worker 0]" in result.stdout and "[worker 1]" in result.stdout
    assert "2 workers" in result.stdout
