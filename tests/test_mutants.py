"""Suite power: every planted defect of properties/mutants/ is killed, within the profile's budget.

A survivor is a blind spot of the suite: strengthen the strategies or the laws, never the mutant.
Mutants that only a GPU family of checks can see (`shows_in`) are skipped on the CPU tier, and are
checked instead to keep the shipped kernel's values here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

from properties.cases import ReplayCase
from properties.harness import MODES, hyphenated, in_launch_form, load_variant
from properties.laws import differential
from properties.mutants import MUTANTS, NAMES, mutants_of
from kernel.launch import LAUNCHER
from properties.mutants._kernel_patches import PATCHES, StalePatch, launcher, patched_sources, shipped_sources
from properties.mutation import hunt
from reference.modes import FORWARD_MODES

ROOT = Path(__file__).resolve().parents[1]
# The gate asks only whether each mutant dies; shrinking is for the mutants command's report.
SHRINK_SECONDS = 0.0
# A hunt stops at its first kill, so it can afford more generated cases than the contract tests'
# lean CPU profile draws: a mutant the pinned edges miss still meets at least this many.
LEAST_EXAMPLES = 12


@pytest.mark.parametrize("mode_name, name", [(mode, name) for mode in FORWARD_MODES for name in mutants_of(mode)])
def test_mutant_is_killed(mode_name, name):
    result = hunt(mutants_of(mode_name)[name], max_examples=max(LEAST_EXAMPLES, settings.default.max_examples), shrink_seconds=SHRINK_SECONDS, forward_mode=mode_name)
    if result.skipped:
        pytest.skip(f"{name}: {result.skipped}")
    assert result.killed, f"{name} survived the suite in the {mode_name} mode"
    print(f"{name} ({mode_name}): killed by {result.law} ({hyphenated(result.launch)}) on {result.size} in {result.seconds:.1f}s")


@pytest.mark.parametrize("name", PATCHES)
def test_kernel_patch_matches_the_shipped_source(name):
    shipped = shipped_sources()
    assert sum(text.count(PATCHES[name].snippet) for text in shipped.values()) == 1, f"{name}: its snippet is not in the shipped source once"
    patched = patched_sources(name)
    assert patched != shipped
    for path, text in patched.items():
        compile(text, f"<mutant {name}: {path}>", "exec")
    assert any(name in mutants_of(mode) for mode in PATCHES[name].forward_modes), f"{name} has a patch but no forward mode"


def test_every_mutant_is_one_defect_of_one_kind():
    """An eager mutant's module and a kernel patch of the same name would shadow one another."""
    assert len(NAMES) == len(set(NAMES))


def test_stale_kernel_patch_fails_naming_the_mutant():
    name = "column_tile_frozen"
    drifted = {path: text.replace(PATCHES[name].snippet, "cols = c + tl.arange(0, COL_TILE) + 0") for path, text in shipped_sources().items()}
    with pytest.raises(StalePatch, match=name):
        patched_sources(name, drifted)


@pytest.mark.parametrize("name", ["page_tile_too_narrow", "single_request_block", "pool_index_ignored"])
def test_a_triton_mutant_launches_copies_of_its_own(name):
    """Whichever file its edit is in (the launcher, the geometry, the jit body), a mutant's compiled
    variants and plans are never the shipped kernel's."""
    mutant = launcher(name)
    assert mutant.kernel is not LAUNCHER.kernel and mutant.geometry is not LAUNCHER.geometry
    assert mutant.plans is not LAUNCHER.plans


def _pool_rows_with_room(seq_lens, extend_seq_lens, page_size):
    """A case whose pool rows are all followed by at least one more row of over 1024 columns, so that
    a page-row load unmasked in columns (one interpreter tile of 1024) stays inside req_to_token."""
    bs = len(seq_lens)
    return ReplayCase(
        seq_lens=tuple(seq_lens),
        extend_seq_lens=tuple(extend_seq_lens),
        req_pool_indices=tuple(reversed(range(bs))),
        pool_size=bs + 1,
        context_len=max(1025, max(seq_lens) + 2),
        nsa_index_topk=5,
        page_size=page_size,
        max_seqlen_k=max(seq_lens),
        req_to_token_seed=bs,
        spare_requests=1,
        spare_tokens=2,
        spare_cols=3,
        row_pad=2,
    )


@pytest.mark.parametrize("name", [name for name, patch in PATCHES.items() if patch.shows_in])
def test_gpu_only_mutant_keeps_the_shipped_values(name, device):
    variant = load_variant(MUTANTS[name])
    cases = (
        _pool_rows_with_room([1100, 7, 300], [3, 1, 2], 16),
        _pool_rows_with_room([5 + (7 * b) % 23 for b in range(70)], [b % 3 for b in range(70)], 1),
    )
    for fill, adapt in filter(None, (in_launch_form(variant, mode) for mode in MODES)):
        for case in cases:
            differential(fill, adapt(case), device)


@pytest.mark.nightly  # 116 s of one GPU job's worker (an H100, the per-pr tier): the command end to end
def test_mutants_command_reports_kills_and_passes_controls():
    result = subprocess.run(
        [sys.executable, "-m", "properties", "mutants", "--only", "cu_seqlens_exclusive,nsa_cu_unclipped",
         "--workers", "1", "--max-examples", "4", "--shrink-seconds", "1",
         # The shipped kernel's own laws are the contract tests; here the reference stands control.
         "--controls", "reference"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2/2 mutants killed" in result.stdout
    assert "cu_seqlens_exclusive" in result.stdout and "killed" in result.stdout


def test_mutants_command_refuses_a_mutant_of_another_forward_mode(capsys):
    from properties.cli import build_parser

    assert "padding_floor_ignored" not in mutants_of("decode")
    args = build_parser().parse_args(["mutants", "--forward-mode", "decode", "--only", "padding_floor_ignored,column_one_past_end"])
    assert args.handler(args) == 2
    said = capsys.readouterr()
    assert said.out == "" and said.err.strip().splitlines() == [
        "not mutants of the decode mode: padding_floor_ignored (--forward-mode picks the mode)"
    ], said.err
