"""The campaign, replay and diff commands, end to end, on the planted bug of tests/planted/."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from properties.gpus import RUNNER_GPUS, visible_gpus

ROOT = Path(__file__).resolve().parents[1]
PLANTED = "tests.planted.column_past_max_seqlen_k:fill_draft_extend_metadata"
SHIPPED = "kernel:fill_draft_extend_metadata"


def properties(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "properties", *argv],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_fuzz_writes_a_self_contained_reproducer_that_replay_reports(tmp_path):
    fuzzed = properties("campaign", "--variant", PLANTED, "--max-examples", "2", "--laws", "differential", "--corpus", str(tmp_path))
    assert fuzzed.returncode == 1, fuzzed.stdout + fuzzed.stderr
    assert "edge classes:" in fuzzed.stdout
    [path] = tmp_path.glob("*.json")
    record = json.loads(path.read_text())
    assert record["variant"] == PLANTED and record["law"] == "differential"
    for name in ("seq_lens", "extend_seq_lens", "req_pool_indices", "req_to_token"):
        assert set(record["inputs"][name]) == {"dtype", "shape", "strides", "values"}
    assert set(record["buffers"]["page_table_1"]) == {"shape", "strides"}
    assert {"sentinel", "options", "real_page_table_is_page_table_1"} <= set(record)
    assert set(record["options"]) == {"nsa_index_topk", "page_size", "max_seqlen_k", "padding_floor", "live_prefix"}
    assert record["case"]["profile"] == "sglang-dsa"
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


@pytest.fixture
def shards(device) -> tuple[list[str], dict[str, str]]:
    """(where each worker of a sharded fuzz runs, the environment that puts it there): two workers
    on the CPU, or one on each of the runner's GPUs, all of them even where pytest -n pinned this
    worker to one."""
    if device.type != "cuda":
        return ["cpu", "cpu"], {}
    gpus = visible_gpus(os.environ.get(RUNNER_GPUS, os.environ.get("CUDA_VISIBLE_DEVICES")), torch.cuda.device_count)
    if len(gpus) == 1:
        pytest.skip("one GPU: campaign --workers puts one worker on each GPU, so there is nothing to shard")
    return [f"GPU {gpu}" for gpu in gpus], {"CUDA_VISIBLE_DEVICES": ",".join(gpus)}


def test_fuzz_shards_over_workers(shards):
    places, env = shards
    result = properties("campaign", "--workers", str(len(places)), "--max-examples", "2", "--laws", "differential", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    for index, place in enumerate(places):
        assert re.search(rf"^\[worker {index} on {place}(: .+)?\] differential campaign", result.stdout, re.M), result.stdout
        assert re.search(rf"^  worker {index} on {place}(: .+)?: \d+ examples, 0 failure", result.stdout, re.M), result.stdout
    assert f"{len(places)} workers, " in result.stdout and "0 distinct failure(s)" in result.stdout


def test_a_defect_every_worker_finds_is_reported_once_with_one_reproducer(shards, tmp_path):
    places, env = shards
    result = properties(
        "campaign", "--variant", PLANTED, "--workers", str(len(places)), "--max-examples", "2", "--laws", "differential",
        "--corpus", str(tmp_path), env=env,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert len(re.findall(r"^\[worker \d+ on .+\] FAILED differential", result.stdout, re.M)) == len(places)
    [path] = tmp_path.glob("*.json")
    merged = result.stdout.split("\nworkers:\n")[1]
    assert "1 distinct failure(s)" in merged
    assert merged.count("FAILED differential") == 1 and merged.count(f"reproducer: {path}") == 1
    assert f"found by worker {', '.join(map(str, range(len(places))))}" in merged


def test_a_crashed_worker_is_reported_as_such(shards, tmp_path):
    places, env = shards
    crashing = tmp_path / "crashing.py"
    crashing.write_text("import os\n\n\ndef fill(*args, **kwargs):\n    os._exit(70)\n")
    result = properties("campaign", "--variant", f"{crashing}:fill", "--workers", str(len(places)), "--max-examples", "1", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    for index, place in enumerate(places):
        assert f"worker {index} on {place}: CRASHED (exit code 70)" in result.stdout
    assert f"{len(places)} worker(s) CRASHED" in result.stdout


def test_a_campaign_against_a_variant_wrong_everywhere_stops_at_its_budget(device, tmp_path):
    """Failing cases and shrink steps count against max_examples, and each failure is shrunk for at
    most shrink_seconds: a variant wrong on every case gets a report, not endless rounds of shrinking."""
    import time

    from properties.campaign import run_campaign
    from properties.harness import load_variant
    from properties.laws import differential

    wrong = tmp_path / "wrong_everywhere.py"
    wrong.write_text(
        "from reference import fill_draft_extend_metadata as reference\n\n\n"
        "def fill(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options):\n"
        "    reference(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options)\n"
        "    buffers.cache_seqlens_int32[:1] += 1\n"
    )
    checked = []
    start = time.monotonic()
    coverage, failures = run_campaign(
        load_variant(f"{wrong}:fill"), device, max_examples=8, seed_value=3, laws=(differential,), shrink_seconds=1.0,
        on_failure=checked.append,
    )
    assert failures and checked == failures
    assert {failure.law for failure in failures} == {"differential"}
    assert time.monotonic() - start < 120
