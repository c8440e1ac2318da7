"""The gate against stand-ins of every calling convention, with their expected scorecards, and the
gate's answers to bad usage. The stand-ins are the project's own (tests/standins/): the shipped
kernel under SGLang's name and signature, eager stand-ins with SGLang's and the seed's signatures,
and planted wrong ones."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from properties.compiles import MAX_BS, SweepStepRaised, _step_inputs, _sweeps, swept_batch_sizes
from properties.gate import FAIL, NOT_APPLICABLE, NOT_RUN, PASS, Gate
from properties.gate_rows import default_required
from properties.harness import load_variant
from reference.modes import FORWARD_MODES

ROOT = Path(__file__).resolve().parents[1]
CORE = ("values", "inputs", "outside-view", "state")
# The expected scorecards need cases that tell the stand-ins apart, not every edge class: those are
# pinned on the shipped kernel by the contract tests. Negative slots and int64 inputs (page_size_64,
# int64_inputs), a request with no tokens, and strided padded tables.
EDGES = ("decode_like", "zero_extend", "page_size_64", "int64_inputs")


def scorecard(device, spec, convention="contract", domain="sglang", only=CORE):
    judge = Gate(load_variant(spec, convention), device, domain=domain, required=CORE, max_examples=1, edges=EDGES)
    card = judge.run(only)
    return {v.family: v for v in card.verdicts}, card


def test_shipped_drop_in_passes_under_sglangs_convention_in_every_mode(device):
    rows, card = scorecard(device, "kernel.sglang:fused_dsa_draft_extend_metadata", "sglang-fused-draft-extend", only=(*CORE, "static-width", "graph-resident"))
    assert all(rows[f].status == PASS for f in rows), card.table()
    assert card.passed


def test_sglang_like_kernel_passes_the_sglang_domain_and_fails_the_strict_one(device):
    spec = "tests/standins/sglang_like.py:fused_dsa_draft_extend_metadata"
    rows, card = scorecard(device, spec, "sglang-fused-draft-extend", only=("values", "static-width", "graph-resident"))
    assert rows["values"].status == PASS and rows["static-width"].status == PASS, card.table()
    assert rows["graph-resident"].status == NOT_APPLICABLE
    rows, card = scorecard(device, spec, "sglang-fused-draft-extend", domain="strict", only=("values",))
    assert rows["values"].status == FAIL and not card.passed
    assert "element 0" in rows["values"].detail or "page" in rows["values"].detail, rows["values"].detail
    assert "domain strict" in card.table()


# Cases that tell decode and target-verify stand-ins apart: a bucket padded with seq_len 0, negative
# slots over pages of 64, int64 inputs, and (target-verify) the 2-D schedule lengths.
FAMILY_EDGES = {
    "decode": ("padded_bucket", "page_size_64", "int64_inputs"),
    "target-verify": ("padded_bucket", "page_size_64", "int64_inputs", "ctx_lens_2d"),
}
SGLANG_CONVENTIONS = {"decode": "sglang-fused-decode", "target-verify": "sglang-fused-target-verify"}
SGLANG_NAMES = {"decode": "fused_dsa_decode_metadata", "target-verify": "fused_dsa_target_verify_metadata"}


def family_scorecard(device, spec, mode_name, domain="sglang", only=CORE):
    variant = load_variant(spec, SGLANG_CONVENTIONS[mode_name])
    assert variant.forward_mode == mode_name
    judge = Gate(variant, device, domain=domain, required=CORE, max_examples=1, edges=FAMILY_EDGES[mode_name])
    card = judge.run(only)
    return {v.family: v for v in card.verdicts}, card


@pytest.mark.parametrize("mode_name", FAMILY_EDGES)
def test_shipped_drop_ins_pass_under_sglangs_decode_and_target_verify_conventions(device, mode_name):
    spec = f"kernel.sglang:{SGLANG_NAMES[mode_name]}"
    rows, card = family_scorecard(device, spec, mode_name, only=(*CORE, "laws", "engine-replay", "graph-resident", "static-width"))
    assert rows["static-width"].status == NOT_APPLICABLE and "draft-extend's" in rows["static-width"].detail, card.table()
    assert all(rows[f].status == PASS for f in rows if f != "static-width"), card.table()
    assert f"({mode_name}, convention {SGLANG_CONVENTIONS[mode_name]}" in card.table()


@pytest.mark.parametrize("mode_name", FAMILY_EDGES)
def test_sglang_like_decode_and_target_verify_pass_the_sglang_domain_and_fail_the_strict_one(device, mode_name):
    spec = f"tests/standins/sglang_like.py:{SGLANG_NAMES[mode_name]}"
    rows, card = family_scorecard(device, spec, mode_name, only=("values", "laws", "graph-resident"))
    assert rows["values"].status == PASS and rows["laws"].status == PASS, card.table()
    assert rows["graph-resident"].status == NOT_APPLICABLE, card.table()
    rows, card = family_scorecard(device, spec, mode_name, domain="strict", only=("values",))
    assert rows["values"].status == FAIL, card.table()
    assert "element 0" in rows["values"].detail or "page" in rows["values"].detail, rows["values"].detail


def test_decode_lengths_kept_at_one_fail_values_on_a_bucket_padded_with_zero(device):
    rows, card = family_scorecard(device, "tests/planted/decode_padding_clamped.py:fused_dsa_decode_metadata", "decode", only=("values", "laws"))
    assert rows["values"].status == FAIL and "nsa_cache_seqlens_int32" in rows["values"].detail, card.table()
    assert rows["laws"].status == FAIL, card.table()


def test_ctx_lens_2d_left_unwritten_fails_values_and_its_law(device):
    rows, card = family_scorecard(device, "tests/planted/ctx_lens_2d_skipped.py:fused_dsa_target_verify_metadata", "target-verify", only=("values", "laws"))
    assert rows["values"].status == FAIL and "paged_mqa_ctx_lens_2d" in rows["values"].detail, card.table()
    assert rows["laws"].status == FAIL and "ctx_lens_are_kv_lengths" in rows["laws"].detail, card.table()


def test_seed_simple_path_passes_values(device):
    rows, card = scorecard(device, "tests.standins.seed_simple:fill_draft_extend_metadata_fused_simple", "seed-simple", only=("values",))
    assert rows["values"].status == PASS, card.table()


def test_seed_fused_path_is_judged_on_what_it_writes(device):
    rows, card = scorecard(device, "tests.standins.seed_fused:fill_draft_extend_metadata_fused", "seed-fused", only=("values",))
    assert rows["values"].status == PASS, card.table()
    rows, card = scorecard(device, "tests.standins.seed_fused:fill_draft_extend_metadata_fused_rows_at_width_stride", "seed-fused", only=("values",))
    assert rows["values"].status == FAIL, card.table()
    assert "page_table_1" in rows["values"].detail


def test_a_variant_that_raises_is_a_failing_row_with_the_exception_and_the_shrunk_case(device):
    rows, card = scorecard(device, "tests.planted.raises_past_two_requests:fill_draft_extend_metadata", only=("values",))
    detail = rows["values"].detail
    assert rows["values"].status == FAIL and "ValueError: three requests" in detail, detail
    assert "bs=3 " in detail.splitlines()[0], detail


def test_a_declared_launch_form_is_required_and_an_undeclared_one_is_na(device):
    """By default the gate requires every launch form the variant declares: a graph-resident mode
    that is wrong fails the gate though host-sized calls pass; a variant that declares none gets n/a
    on those rows and still passes."""
    required = default_required(device.type == "cuda")
    only = ("values", "graph-resident", "static-width")
    wrong = Gate(load_variant("tests/planted/graph_resident_drops_last_request.py:fill_draft_extend_metadata"), device,
                 domain="sglang", required=required, max_examples=1, edges=EDGES).run(only)
    rows = {v.family: v for v in wrong.verdicts}
    assert rows["values"].status == PASS and rows["graph-resident"].status == FAIL, wrong.table()
    assert rows["static-width"].status == NOT_APPLICABLE and not wrong.passed
    assert "GATE FAILED: required graph-resident" in wrong.table()
    undeclared = Gate(load_variant("reference:fill_draft_extend_metadata"), device, domain="sglang", required=required,
                      max_examples=1, edges=EDGES).run(only)
    assert {v.status for v in undeclared.verdicts if v.family != "values"} == {NOT_APPLICABLE} and undeclared.passed, undeclared.table()


def test_a_lost_cuda_context_fails_its_row_and_leaves_the_in_process_rows_not_run(device, monkeypatch):
    judge = Gate(load_variant("reference:fill_draft_extend_metadata"), device, domain="sglang", required=CORE, max_examples=1, edges=EDGES)

    def law_family(family):
        if family == "inputs":
            try:
                raise RuntimeError("CUDA error: device-side assert triggered\nCompile with `TORCH_USE_CUDA_DSA`")
            except RuntimeError as error:
                raise SweepStepRaised("at batch size 64 (int32)") from error
        return PASS, "held"

    monkeypatch.setattr(judge, "law_family", law_family)
    monkeypatch.setattr(judge, "sanitizer", lambda family: (PASS, "ran in a process of its own"))
    card = judge.run(("values", "inputs", "outside-view", "state", "memcheck"))
    rows = {v.family: v for v in card.verdicts}
    assert rows["values"].status == PASS
    assert rows["inputs"].status == FAIL
    assert rows["inputs"].detail == (
        "the variant raised RuntimeError: CUDA error: device-side assert triggered (at batch size 64 (int32))"
    )
    for family in ("outside-view", "state"):
        assert rows[family].status == NOT_RUN
        assert rows[family].detail.startswith("the CUDA context was lost when inputs raised (RuntimeError: CUDA error")
        assert rows[family].detail.endswith(f"run it alone: --only {family}")
    assert rows["memcheck"].status == PASS and not card.passed


def test_a_row_that_raises_without_losing_the_context_leaves_the_rest_running(device, monkeypatch):
    judge = Gate(load_variant("reference:fill_draft_extend_metadata"), device, domain="sglang", required=CORE, max_examples=1, edges=EDGES)

    def law_family(family):
        if family == "values":
            raise ValueError("bs must be a power of two")
        return PASS, "held"

    monkeypatch.setattr(judge, "law_family", law_family)
    rows = {v.family: v for v in judge.run(("values", "inputs")).verdicts}
    assert (rows["values"].status, rows["values"].detail) == (FAIL, "the variant raised ValueError: bs must be a power of two")
    assert rows["inputs"].status == PASS


def test_the_compile_count_sweep_spans_every_batch_size_class_without_4096_calls():
    sizes = swept_batch_sizes()
    assert sizes == sorted(set(sizes)) and sizes[0] == 1 and sizes[-1] == MAX_BS
    assert set(range(1, 65)) <= set(sizes)
    for power in (128, 256, 512, 1024, 2048, 4096):
        assert {power - 1, power} <= set(sizes)
    assert len(sizes) < 100


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_each_compile_count_step_puts_its_own_values_on_the_device(dtype):
    """A convention feeds the variant the step's host values (its total, its longest extension): the
    device tensors must hold the same step, or a variant that trusts the host total (as SGLang's and
    the seed's callers do) is judged on a case that never happens."""
    for mode_name in FORWARD_MODES:
        for dimension, allocation, steps in _sweeps(dtype, mode_name):
            inputs = allocation.inputs("cpu")
            for step in list(steps)[:80]:
                written = step.named_inputs(_step_inputs(inputs, step))
                for name in step.input_names()[:-1]:
                    assert written[name].tolist() == list(getattr(step, name)), (mode_name, dimension, name)
                assert step.longest <= step.max_seqlen_k, (mode_name, dimension)


def gate_cli(*argv):
    return subprocess.run(
        [sys.executable, "-m", "properties", "gate", *argv],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.parametrize(
    "argv, says",
    [
        (("--convention", "nope"), "argument --convention: invalid choice: 'nope'"),
        (("--require", "values,speediness"), "argument --require: unknown row speediness; known: values, laws,"),
        (("--only", "values,no_sync,nope"), "argument --only: unknown row nope"),
        (("--domain", "lenient"), "argument --domain: invalid choice: 'lenient'"),
        (("--variant", "no/such/file.py:fill"), "no such file"),
        (("--variant", "reference:no_such_callable"), "has no callable 'no_such_callable'"),
        (("--variant", "reference:expand_seqlens"), "does not have the draft-extend contract's signature"),
        (("--variant", "reference:fill_draft_extend_metadata", "--forward-mode", "decode"), "does not have the decode contract's signature"),
        (("--convention", "sglang-fused-decode", "--forward-mode", "target-verify"), "the sglang-fused-decode convention is the decode mode's"),
        (("--variant", "reference:fill_draft_extend_metadata", "--convention", "seed-fused"), "does not have the convention's signature"),
    ],
)
def test_bad_usage_gets_one_line_and_exit_2(argv, says):
    result = gate_cli(*argv)
    assert result.returncode == 2, result.stdout + result.stderr
    assert says in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_the_gate_prints_a_scorecard_writes_json_and_exits_by_the_required_rows(tmp_path):
    report = tmp_path / "card.json"
    planted = "tests.planted.column_past_max_seqlen_k:fill_draft_extend_metadata"
    failed = gate_cli(
        "--variant", planted, "--only", "values,inputs", "--max-examples", "2", "--json", str(report),
        "--reproducers", str(tmp_path / "found"),
    )
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "GATE FAILED: required values" in failed.stdout and "past max_seqlen_k" in failed.stdout
    import json

    card = json.loads(report.read_text())
    assert card["passed"] is False and card["domain"] == "sglang"
    assert {row["family"]: row["status"] for row in card["verdicts"]} == {"values": "fail", "inputs": "pass"}
    passed = gate_cli(
        "--variant", planted, "--only", "values,inputs", "--require", "inputs", "--max-examples", "2",
        "--reproducers", str(tmp_path / "found"),
    )
    assert passed.returncode == 0, passed.stdout + passed.stderr


def test_a_counterexample_reads_as_a_summary_and_a_reproducer_that_replay_reads(tmp_path):
    """The case is one line (mode, bs, tokens, max_seqlen_k, page size, profile, padding); the whole of
    it goes to a JSON reproducer whose path is printed, and that `replay` reruns to the same failure.
    No line of the report is over 300 characters, however large the case."""
    planted = "tests.planted.column_past_max_seqlen_k:fill_draft_extend_metadata"
    failed = gate_cli("--variant", planted, "--only", "values", "--max-examples", "2", "--reproducers", str(tmp_path))
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert max(len(line) for line in failed.stdout.splitlines()) <= 300, failed.stdout
    detail = failed.stdout[failed.stdout.index("--- values ---"):].splitlines()
    assert detail[1].startswith("differential (host-sized) on draft-extend bs="), detail[1]
    for word in ("tokens=", "max_seqlen_k=", "page_size=", "profile=sglang-dsa", "padding="):
        assert word in detail[1], detail[1]
    assert detail[2].startswith("reproducer: "), detail[2]
    path = Path(detail[2].removeprefix("reproducer: "))
    assert path.is_file() and path.parent == tmp_path
    replayed = subprocess.run(
        [sys.executable, "-m", "properties", "replay", str(path)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True,
    )
    assert replayed.returncode == 1 and "past max_seqlen_k" in replayed.stdout, replayed.stdout + replayed.stderr


def test_a_variant_that_hangs_fails_its_row_as_hung_and_the_gate_goes_on():
    """A call that never returns (a kernel spinning on a flag, from three requests on) is killed with
    its row's process after --row-timeout: the row fails naming the case, the next row still runs."""
    hangs = "tests/planted/hangs_past_two_requests.py:fill_draft_extend_metadata"
    result = gate_cli("--variant", hangs, "--only", "values,inputs", "--max-examples", "2", "--row-timeout", "15")
    assert result.returncode == 1, result.stdout + result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith(("values ", "inputs "))}
    assert "FAIL" in rows["values"] and "hung after 15 s on draft-extend bs=" in rows["values"], result.stdout
    assert "FAIL" in rows["inputs"] and "hung after 15 s" in rows["inputs"], result.stdout
    assert "GATE FAILED: required values, inputs" in result.stdout


def test_no_line_of_a_scorecard_is_over_300_characters():
    from properties.gate import MAX_LINE, Scorecard, Verdict

    card = Scorecard("v:f", "contract", "sglang", "cpu", [Verdict("values", FAIL, "x" * 10_000 + "\n" + "y" * 20, True)])
    lines = card.table().splitlines()
    assert max(map(len, lines)) == MAX_LINE and "more characters)" in card.table()
    assert "y" * 20 in lines


ENGINE = ("padded_bucket", "extend_past_seq_len", "empty_batch")


def engine_scorecard(device, spec, convention="contract", only=("values", "laws", "engine-replay"), profile=None):
    judge = Gate(load_variant(spec, convention, profile=profile), device, domain="sglang", required=(*CORE, "engine-replay"), max_examples=2, edges=ENGINE)
    card = judge.run(only)
    return {v.family: v for v in card.verdicts}, card


def test_shipped_kernel_and_drop_in_pass_the_engines_inputs(device):
    for spec, convention in (("kernel:fill_draft_extend_metadata", "contract"),
                             ("kernel.sglang:fused_dsa_draft_extend_metadata", "sglang-fused-draft-extend")):
        rows, card = engine_scorecard(device, spec, convention)
        assert all(v.status == PASS for v in rows.values()), card.table()


def test_padding_lengths_left_negative_fail_values_and_the_length_law(device):
    # The floors of 0 and 1 are each right under some profile: tests/test_engine_profiles.py.
    rows, card = engine_scorecard(device, "tests/planted/padding_lengths.py:unclamped", "sglang-fused-draft-extend", only=("values", "laws"))
    assert rows["values"].status == FAIL and rows["laws"].status == FAIL, card.table()
    assert "nsa_seqlens_expanded" in rows["values"].detail, rows["values"].detail
    assert "bs=" in rows["laws"].detail and "expanded" in rows["laws"].detail, rows["laws"].detail


def test_an_empty_batch_refused_fails_on_the_empty_batch_example(device):
    rows, card = engine_scorecard(device, "tests/planted/empty_batch_refused.py:fill_draft_extend_metadata", only=("values",))
    detail = rows["values"].detail
    assert rows["values"].status == FAIL and "at least one request" in detail and "bs=0 " in detail, detail


def test_padded_rows_left_stale_fail_the_engine_replay(device):
    # Under a live-prefix profile a padding row of seq_len 0 is all tail, where old contents are
    # allowed: only the full-width contract makes every stale padding row a defect.
    rows, card = engine_scorecard(
        device, "tests/planted/padded_rows_stale.py:fill_draft_extend_metadata", only=("values", "engine-replay"), profile="full-width"
    )
    assert rows["values"].status == PASS, card.table()
    assert rows["engine-replay"].status == FAIL, card.table()
    # On a GPU the replay is a captured graph, which its host sync (`.tolist()`) already fails.
    assert ("page_table_1" if device.type == "cpu" else "synchronizes with the host") in rows["engine-replay"].detail, card.table()


@pytest.mark.parametrize(
    ("module", "code", "sections", "says"),
    [
        ("kernel/sglang.py", 0, 3, "MODULE GATE PASSED: 3 entry point(s)"),
        ("tests/planted/decode_padding_clamped.py", 1, 1, "MODULE GATE FAILED: tests/planted/decode_padding_clamped.py:fused_dsa_decode_metadata (decode)"),
    ],
)
def test_a_module_named_alone_is_gated_in_every_mode_it_has(module, code, sections, says, tmp_path):
    """`--variant FILE.py --convention sglang` finds SGLang's entry points by name and gates each in its
    own forward mode: one scorecard, a section per mode, exit 0 only if every section passes."""
    result = gate_cli("--variant", module, "--convention", "sglang", "--only", "values", "--max-examples", "1",
                      "--reproducers", str(tmp_path), "--row-timeout", "0")
    assert result.returncode == code, result.stdout + result.stderr[-2000:]
    assert result.stdout.count("\ngate: ") + result.stdout.startswith("gate: ") == sections, result.stdout
    assert says in result.stdout, result.stdout


def test_the_sglang_family_judges_a_named_kernel_in_the_mode_its_name_says(tmp_path):
    """`--convention sglang` with one callable: the mode and the convention its SGLang name implies."""
    result = gate_cli("--variant", "kernel/sglang.py:fused_dsa_decode_metadata", "--convention", "sglang", "--only", "inputs",
                      "--max-examples", "1", "--reproducers", str(tmp_path), "--row-timeout", "0")
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert "(decode, convention sglang-fused-decode," in result.stdout, result.stdout


def test_engine_replay_calls_a_fill_that_reads_changing_host_values_as_sglangs_runner_does(monkeypatch):
    """SGLang's runner calls its metadata kernels before each replay, outside the graph, with that
    step's host values: a convention that passes such values (the draft-extend token total) is
    judged by calls on the same buffers, never by replaying a capture that froze the first step's."""
    from types import SimpleNamespace

    import torch

    import kernel
    import kernel.sglang as drop_ins
    from properties import runtime_laws
    from properties.conventions import adapt

    seen = []
    monkeypatch.setattr(runtime_laws, "graph_replays_match_reference", lambda *args: seen.append("captured"))
    monkeypatch.setattr(runtime_laws, "calls_match_reference", lambda *args: seen.append("called"))
    session = SimpleNamespace(steps=[SimpleNamespace(inputs=lambda device: ())], buffers=lambda device: None)
    for mode, convention, fill, called in (
        ("draft-extend", "sglang-fused-draft-extend", drop_ins.fused_dsa_draft_extend_metadata, True),
        ("decode", "sglang-fused-decode", drop_ins.fused_dsa_decode_metadata, False),
        ("target-verify", "sglang-fused-target-verify", drop_ins.fused_dsa_target_verify_metadata, False),
        ("draft-extend", "contract", kernel.fill_draft_extend_metadata, False),
    ):
        seen.clear()
        runtime_laws.engine_replays_match_reference(adapt(fill, convention, "spec", mode), session, torch.device("cuda"))
        assert seen == ["called" if called else "captured"], (mode, convention)
