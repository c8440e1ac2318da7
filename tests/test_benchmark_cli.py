"""The benchmarks' command lines, on any machine: they import and answer --help without a GPU, build
the sweep their options ask for, and turn away what they cannot run in one line, exit status 2. (The
commands their README documents are parsed by tests/test_docs.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dataclasses

import pytest
import torch

import kernel
from benchmarks import full_sweep, host_breakdown, profile_case, tile_variants
from benchmarks.replay_metadata import cases, cli, peers
from kernel.geometry import Tiles
from reference import eager
from reference.modes import FORWARD_MODES

ROOT = Path(__file__).resolve().parents[1]


def test_help_runs_without_a_gpu():
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.replay_metadata", "--help"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": ""},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "--against [LABEL=]SPEC[@CONVENTION]" in result.stdout and "--lengths" in result.stdout and "--quick" in result.stdout


@pytest.mark.parametrize(
    "argv, expected",
    [
        ([], cases.FULL_SWEEP),
        (["--quick"], cases.QUICK_SWEEP),
        (
            ["--quick", "--batch-sizes", "1,8", "--extend", "equal", "--topk", "64"],
            cases.Sweep((1, 64), (8192, 131072), (1, 8), ("equal",), 64, lengths=("serving-mix",)),
        ),
        (
            ["--lengths", "equal,serving-mix", "--profile", "full-width"],
            dataclasses.replace(cases.FULL_SWEEP, lengths=("equal", "serving-mix"), profile="full-width"),
        ),
        (["--index-kpool", "1,2,16"], dataclasses.replace(cases.FULL_SWEEP, index_kpools=(1, 2, 16))),
    ],
)
def test_options_replace_their_part_of_the_sweep(argv, expected):
    assert cli.resolve_sweep(cli.parse_args(argv)) == expected


def test_the_full_sweep_is_the_documented_one():
    sweep = cases.FULL_SWEEP
    assert sweep.batch_sizes == (1, 2, 4, 8, 16, 32, 64, 128, 512, 2048, 4096)
    assert (sweep.contexts, sweep.page_sizes, sweep.extends, sweep.topk) == (
        (8192, 131072), (1, 64), ("ragged", "equal"), 2048
    )


def test_padded_buckets_pad_the_last_quarter_as_the_runners_do():
    assert cli.resolve_sweep(cli.parse_args(["--padded"])).padded
    for mode_name, extend in (("draft-extend", "ragged"), ("decode", "one"), ("target-verify", "next_n=2")):
        case = cases.make_case(64, 300, 8, extend, 32, torch.device("cpu"), mode_name=mode_name, padded=True)
        assert case.host.padding_requests() == [6, 7], mode_name
        assert case.seq_lens[6:].tolist() == [1, 1] and case.req_pool_indices[6:].tolist() == [0, 0]
        assert 0 not in case.req_pool_indices[:6].tolist()
        if mode_name == "draft-extend":
            assert case.extend_seq_lens[6:].tolist() == [cases.MAX_EXTEND] * 2
        assert case.total_tokens == case.host.total_tokens


@pytest.mark.parametrize(
    "argv, extends",
    [
        (["--forward-mode", "decode"], ("one",)),
        (["--forward-mode", "target-verify"], ("next_n=1", "next_n=2", "next_n=3", "next_n=4")),
        (["--forward-mode", "target-verify", "--quick"], ("next_n=4",)),
        (["--forward-mode", "target-verify", "--extend", "next_n=2"], ("next_n=2",)),
    ],
)
def test_each_forward_mode_sweeps_its_own_tokens_per_request(argv, extends):
    sweep = cli.resolve_sweep(cli.parse_args(argv))
    assert sweep.forward_mode == argv[1] and sweep.extends == extends


@pytest.mark.parametrize(
    "argv",
    [["--contexts", "4"], ["--page-sizes", "3"], ["--extend", "long"], ["--convention", "contract2"],
     ["--forward-mode", "decode", "--extend", "ragged"], ["--extend", "next_n=2"], ["--forward-mode", "prefill"],
     ["--index-kpool", "3"], ["--index-kpool", "1,4", "--page-sizes", "1"]],
)
def test_bad_options_are_refused(argv):
    with pytest.raises(SystemExit) as exit:
        cli.parse_args(argv)
    assert exit.value.code == 2


@pytest.mark.parametrize(
    "spec, convention",
    [("no_such_module:fill", "contract"), ("tests/planted/missing.py:fill", "contract"),
     ("tests/planted/column_past_max_seqlen_k.py:fill_draft_extend_metadata", "no_such_convention")],
)
def test_a_variant_that_cannot_load_is_one_line_and_exit_2(spec, convention, capsys):
    assert cli.main(["--against", spec, "--convention", convention]) == 2
    err = capsys.readouterr().err
    assert err.startswith("--against: ") and err.count("\n") == 1, err


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without a GPU")
def test_without_a_gpu_it_refuses_to_run(tmp_path, capsys):
    argv = ["--quick", "--out", str(tmp_path), "--against", "kernel:fill_draft_extend_metadata"]
    assert cli.main(argv) == 2
    assert "needs a CUDA device" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("argv", [["--page-size", "3"], ["--bs", "x"]])
def test_host_breakdown_refuses_bad_options(argv):
    with pytest.raises(SystemExit) as exit:
        host_breakdown.main(argv)
    assert exit.value.code == 2


def test_host_breakdown_refuses_a_non_positive_size(tmp_path, capsys):
    assert host_breakdown.main(["--bs", "0", "--out", str(tmp_path)]) == 2
    assert "--bs" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without a GPU")
def test_host_breakdown_without_a_gpu_refuses_to_run(tmp_path, capsys):
    assert host_breakdown.main(["--out", str(tmp_path)]) == 2
    assert "needs a CUDA device" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_host_breakdown_without_a_direct_launch_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    """Under a launch hook (a profiler) no call keeps a direct-launch plan: nothing to time."""

    def no_plan(*args):
        raise RuntimeError("the call kept no direct-launch plan: a launch hook is installed")

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(host_breakdown.kernel, "triton_enabled", lambda: True)
    monkeypatch.delenv("SGLANG_NSA_METADATA_VALIDATE", raising=False)
    monkeypatch.setattr(host_breakdown, "pieces", no_plan)
    assert host_breakdown.main(["--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nothing to break down: ") and err.count("\n") == 1, err
    assert not any(tmp_path.iterdir())


def test_host_breakdown_refuses_validation_mode(tmp_path, capsys, monkeypatch):
    """Validation mode syncs in every call: timing it would time the sync."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(host_breakdown.kernel, "triton_enabled", lambda: True)
    monkeypatch.setenv("SGLANG_NSA_METADATA_VALIDATE", "1")
    assert host_breakdown.main(["--out", str(tmp_path)]) == 2
    assert "SGLANG_NSA_METADATA_VALIDATE" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    "argv",
    [["--forward-mode", "decode", "--extend", "equal"], ["--extend", "next_n=2"], ["--impl", "copy"], ["--forward-mode", "prefill"]],
)
def test_profile_case_refuses_what_the_mode_does_not_take(argv):
    with pytest.raises(SystemExit) as exit:
        profile_case.main(argv)
    assert exit.value.code == 2


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without a GPU")
@pytest.mark.parametrize("impl", ["kernel", "floor"])
def test_profile_case_without_a_gpu_refuses_to_run(impl, capsys):
    assert profile_case.main(["--forward-mode", "target-verify", "--extend", "next_n=4", "--impl", impl]) == 2
    assert "needs a CUDA device" in capsys.readouterr().err


@pytest.mark.parametrize("text, parsed", [
    ("kernel:fill_decode_metadata", ("fill_decode_metadata", "kernel:fill_decode_metadata", "contract")),
    ("b4ff=peers/x/dsa_metadata.py:fused_dsa_decode_metadata@sglang-fused-decode",
     ("b4ff", "peers/x/dsa_metadata.py:fused_dsa_decode_metadata", "sglang-fused-decode")),
    ("kpool=peers/kpool/decode.py:fill", ("kpool", "peers/kpool/decode.py:fill", "contract")),
    ("sglang==0.5.23:kpool:decode", ("0.5.23-kpool", "sglang==0.5.23:kpool:decode", "contract")),
    ("sglang==0.5.23:draft-extend", ("0.5.23", "sglang==0.5.23:draft-extend", "contract")),
    ("new=sglang==0.5.23:decode", ("new", "sglang==0.5.23:decode", "contract")),
])
def test_an_against_value_names_its_column_spec_and_convention(text, parsed):
    assert peers.against_spec(text, "contract") == parsed


@pytest.mark.parametrize("lengths", cases.LENGTHS)
def test_every_length_spread_stays_within_the_context_and_reaches_it(lengths):
    seq_lens = cases.draw_seq_lens(lengths, 8192, 512, torch.Generator().manual_seed(0))
    assert int(seq_lens.max()) == 8192 and int(seq_lens.min()) >= min(cases.SERVING_MIX_LEAST, 8192)
    if lengths == "serving-mix":
        # Log-uniform from 64: the median request is near sqrt(64 * 8192), far below the context.
        assert 400 < float(seq_lens.float().median()) < 1400


def test_the_floor_moves_only_the_live_prefix_under_a_live_prefix_profile():
    """The floor's bytes: every request's row read and each token's row written, over the live
    columns only under sglang-dsa, over every column below max_seqlen_k under full-width."""
    args = (64, 8192, 16, "one", 2048, torch.device("cpu"))
    live = cases.make_case(*args, mode_name="decode", lengths="serving-mix")
    full = cases.make_case(*args, mode_name="decode", lengths="serving-mix", profile="full-width")
    kv = live.seq_lens.tolist()
    assert cases.page_table_bytes(live) == 4 * sum(2 * k + -(-k // 64) for k in kv)
    assert cases.page_table_bytes(full) == 4 * 16 * (2 * 8192 + 8192 // 64)


def test_without_page_table_1_the_floor_is_the_real_table_and_page_size_1_is_left_out():
    """--no-page-table-1: the buffers hold no page_table_1, the floor writes only the real table's
    pages (a 64th of the wide table's cells at page 64), and the sweep keeps its page sizes above 1."""
    args = (64, 8192, 16, "one", 2048, torch.device("cpu"))
    real_only = cases.make_case(*args, mode_name="decode", lengths="serving-mix", page_table_1=False)
    assert real_only.buffers.page_table_1 is None and not real_only.host.page_table_1_given
    kv = real_only.seq_lens.tolist()
    assert cases.page_table_bytes(real_only) == 4 * sum(k + -(-k // 64) for k in kv)
    sweep = cli.resolve_sweep(cli.parse_args(["--no-page-table-1"]))
    assert not sweep.page_table_1 and sweep.page_sizes == (64,)
    with pytest.raises(SystemExit):
        cli.parse_args(["--no-page-table-1", "--page-sizes", "1,64"])


def test_the_scoreboard_reads_the_targets_back_from_a_results_folder(capsys):
    """The H200 live-prefix sweep's tables give the counts benchmarks/README.md quotes: ours at or
    below the faster SGLang kernel in 48 of 60 cells and 22 of the 30 serving-mix ones."""
    from benchmarks import scoreboard

    assert scoreboard.main([str(Path(__file__).resolve().parents[1] / "benchmarks/results/h200-live")]) == 0
    said = capsys.readouterr().out
    assert "all                     48 of 60; 22 of 30" in said, said
    assert "slower cells: 12" in said and "graph-resident / host-sized, bs 32 up" in said, said


def test_a_kpool_case_passes_its_size_to_every_fill_that_pools(tmp_path):
    """index_kpool reaches the shipped fill and a variant's, as the case's option; a case of k = 1
    passes none, so variants that predate KPool are called as before."""
    pooled = cases.make_case(64, 300, 8, "ragged", 32, torch.device("cpu"), index_kpool=4)
    assert pooled.host.index_kpool == 4 and pooled.bound(kernel.fill_draft_extend_metadata).keywords["index_kpool"] == 4
    plain = cases.make_case(64, 300, 8, "ragged", 32, torch.device("cpu"))
    assert "index_kpool" not in plain.bound(kernel.fill_draft_extend_metadata).keywords


def test_the_scoreboard_counts_each_kpool_size_and_says_which_targets_are_met(tmp_path, capsys):
    """A table with the KPool column: each size is counted apart, a slower cell names its size, and
    the targets line says NOT MET where a cell loses."""
    from benchmarks import scoreboard

    header = ("page  kpool  context  lengths  extend  bs  padding  tokens  gpu:kernel  gpu:vs:sgl  kernel/floor  "
              "resident/kernel  kernel/sgl  host kernel/empty")
    rows = [
        "64  1  8192  half  one  32  0  32  2.0  2.5  1.05  1.00  0.800  1.10",
        "64  4  8192  serving-mix  one  32  0  32  3.0  2.5  1.10  1.00  1.20  1.20",
    ]
    (tmp_path / "benchmark-decode.txt").write_text("decode; device: X\n" + "\n".join([header, *rows]) + "\n")
    assert scoreboard.main([str(tmp_path)]) == 0
    said = capsys.readouterr().out
    assert "index_kpool 1           1 of 1" in said and "index_kpool 4           0 of 1" in said, said
    assert "1.20x  decode page 64 kpool 4 context 8192 serving-mix bs 32" in said, said
    assert "every cell at or below the fastest against column: NOT MET (1 slower of 2)" in said, said
    assert "kernel / floor at most 1.15, bs 32 up: met (worst 1.10)" in said, said
    assert "host time at most 1.3x an empty launch: met (worst 1.20)" in said, said


def test_the_scoreboard_says_when_a_folder_holds_no_table(tmp_path, capsys):
    from benchmarks import scoreboard

    assert scoreboard.main([str(tmp_path)]) == 2
    assert "no benchmark table found" in capsys.readouterr().err


@pytest.mark.parametrize("mode_name", FORWARD_MODES)
def test_a_tile_variant_name_is_the_mode_fill_on_those_tiles(mode_name):
    """The name spells the tiles (tests/test_launch_geometry.py checks these tiles' values)."""
    fill_name = FORWARD_MODES[mode_name].fill_name
    assert getattr(tile_variants, f"{fill_name}_r4_s8_c32_w1_t12") is tile_variants.tile_fills(Tiles(4, 8, 32, 1, 12))[fill_name]


@pytest.mark.parametrize("name", ["fill_decode_metadata_r3_s8_c32_w1_t12", "fill_decode_metadata", "fill_nothing_metadata_r4_s8_c32_w1_t12"])
def test_a_tile_variant_name_is_checked(name):
    with pytest.raises(AttributeError, match="tile variant|power of two"):
        getattr(tile_variants, name)


def test_equal_extend_lengths_carry_the_static_width_promise_to_the_fills_that_declare_it():
    """As SGLang's draft-extend V2 calls its kernel: `equal` gives static_extend_len=True to the
    shipped fill and to any variant declaring it, `ragged` to none, and the eager code never."""
    for extend, promised in (("equal", True), ("ragged", False)):
        case = cases.make_case(64, 300, 8, extend, 32, torch.device("cpu"))
        assert case.bound(kernel.fill_draft_extend_metadata).keywords.get("static_extend_len", False) is promised, extend
        assert "static_extend_len" not in case.bound(eager.fill_draft_extend_metadata).keywords


def test_a_host_ratio_is_taken_within_each_round_then_its_median():
    """Rounds where the host's clock ran slow for both implementations cancel: the ratio is the
    median of each round's own ratio, not the ratio of two medians taken at different moments."""
    from benchmarks.replay_metadata.timing import host_ratio

    kernel_rounds = {"us": 20.0, "rounds_us": [14.0, 30.0, 20.0]}
    empty_rounds = {"us": 20.0, "rounds_us": [10.0, 25.0, 16.0]}
    assert host_ratio(kernel_rounds, empty_rounds) == pytest.approx(1.25)
    assert host_ratio({"us": 3.0}, {"us": 2.0}) == pytest.approx(1.5)
    assert host_ratio(None, empty_rounds) is None


def _recorded_decode_sweep() -> tuple[dict, dict, cases.Sweep]:
    """An H100 run's decode results (replayed in place of timing), its --against variants as the
    tables read them, and a three-case sweep of serving-mix rows it holds (bs 1, 8, 64)."""
    from types import SimpleNamespace

    recorded = json.loads((ROOT / "benchmarks/results/h100-grouped-tail/decode.json").read_text())
    against = {label: SimpleNamespace(**spec) for label, spec in recorded["against"].items()}
    sweep = cli.resolve_sweep(cli.parse_args(
        ["--forward-mode", "decode", "--page-sizes", "64", "--contexts", "8192", "--batch-sizes", "1,8,64", "--lengths", "serving-mix"]
    ))
    return recorded, against, sweep


def test_a_sweep_cut_short_keeps_every_row_it_timed_and_says_it_is_partial(tmp_path, monkeypatch, capsys):
    """A device call has a time limit: each row is written as soon as it is timed, so a run cut after
    two of its cases leaves a table of those two, which says it is partial, and the scoreboard
    reads it and says so too. The rows are an H100 run's, replayed."""
    from benchmarks import scoreboard

    recorded, against, sweep = _recorded_decode_sweep()
    json_rows = iter(recorded["results"])

    def measure(case, against, skipped):
        row = next(json_rows)
        if row["bs"] == 64:
            raise KeyboardInterrupt("the call's time limit")
        return row

    monkeypatch.setattr(cli, "measure_case", measure)
    monkeypatch.setattr(cli, "make_case", lambda *args, **kwargs: None)
    case_count = cli.sweep_cases(sweep)
    assert case_count == 3
    write = lambda rows: cli.write_results(tmp_path, "benchmark-decode", "decode; device: X", {"device": "X"}, rows, against, case_count)
    with pytest.raises(KeyboardInterrupt):
        cli.run_sweep(sweep, against, torch.device("cpu"), write)
    table = (tmp_path / "benchmark-decode.txt").read_text()
    assert table.splitlines()[0] == "decode; device: X; partial: 2 of 3 cases, the run did not finish", table
    written = json.loads((tmp_path / "benchmark-decode.json").read_text())
    assert (written["complete"], written["cases"], [row["bs"] for row in written["results"]]) == (False, 3, [1, 8])
    assert scoreboard.main([str(tmp_path)]) == 0
    said = capsys.readouterr().out
    assert said.splitlines()[0] == "partial table, benchmark-decode.txt: 2 of 3 cases, the run did not finish", said
    assert "  all                     1 of 2; 1 of 2" in said, said


def test_a_resumed_sweep_times_only_the_cases_the_cut_run_lacks(tmp_path, monkeypatch, capsys):
    """--resume: the rows a cut run wrote are kept where they name the same cases of the same sweep
    against the same variants, and only the rest is timed; a folder holding another sweep is timed
    afresh, and says so."""
    recorded, against, sweep = _recorded_decode_sweep()
    report = {"sweep": dataclasses.asdict(sweep), "against": recorded["against"]}
    by_bs = {row["bs"]: row for row in recorded["results"] if row["lengths"] == "serving-mix"}
    case_count = cli.sweep_cases(sweep)
    write = lambda rows: cli.write_results(tmp_path, "benchmark-decode", "decode; device: X", report, rows, against, case_count)
    write([by_bs[1], by_bs[8]])  # what a run cut during bs 64 left

    timed = []
    monkeypatch.setattr(cli, "make_case", lambda page_size, context, bs, *args, **kwargs: bs)
    monkeypatch.setattr(cli, "measure_case", lambda bs, against, skipped: timed.append(bs) or by_bs[bs])
    done = cli.resumed_rows(tmp_path / "benchmark-decode.json", report)
    rows = cli.run_sweep(sweep, against, torch.device("cpu"), write, done=done)
    assert timed == [64] and [row["bs"] for row in rows] == [1, 8, 64]
    assert "bs=8: kept from the earlier run" in capsys.readouterr().err
    assert json.loads((tmp_path / "benchmark-decode.json").read_text())["complete"] is True

    other = {**report, "sweep": {**report["sweep"], "batch_sizes": [1, 8]}}
    assert cli.resumed_rows(tmp_path / "benchmark-decode.json", other) == []
    assert "holds another sweep or other --against variants" in capsys.readouterr().err


@pytest.mark.parametrize("mode_name", FORWARD_MODES)
@pytest.mark.parametrize("part", list(full_sweep.PARTS))
def test_every_part_of_the_full_sweep_is_a_sweep_the_benchmark_takes(part, mode_name):
    """Each part's command line parses, asks for what its record says, and times the released
    plain and KPool kernels beside ours, resuming whatever a cut run left."""
    record = full_sweep.PARTS[part]
    argv = record.argv(mode_name, "0.5.23", "/tmp/out")
    args = cli.parse_args(argv)
    sweep = cli.resolve_sweep(args)
    assert (sweep.forward_mode, sweep.contexts, sweep.batch_sizes, sweep.index_kpools, sweep.padded) == (
        mode_name, record.contexts, record.batch_sizes, record.index_kpools, record.padded
    )
    assert args.resume and cli.sweep_cases(sweep) > 0
    assert [peers.against_spec(text, args.convention) for text in args.against] == [
        ("0.5.23", f"sglang==0.5.23:{mode_name}", f"sglang-fused-{mode_name}"),
        ("0.5.23-kpool", f"sglang==0.5.23:kpool:{mode_name}", f"sglang-fused-{mode_name}"),
    ]


def test_the_full_sweep_without_a_gpu_refuses_to_run(capsys):
    assert full_sweep.main(["--out", "/tmp/unused", "--parts", "8k"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize("argv", [["--out", "x", "--parts", "8k,64k"], ["--out", "x", "--forward-modes", "prefill"], ["--parts", "8k"]])
def test_the_full_sweep_refuses_what_it_does_not_know(argv):
    with pytest.raises(SystemExit):
        full_sweep.main(argv)
