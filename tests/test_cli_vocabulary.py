"""One vocabulary across the command line (properties/cli/): every option that names a variant
is `SPEC`, every list is comma-separated and refuses an unknown item by name, every value is
hyphenated (an underscore spelling is read as its twin), and the gate's help names every row it
can require, as properties/gate_rows.py records them."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import subprocess
import sys

import pytest
import torch

from properties.cli import build_parser
from properties.options import SPEC_FORMS, names
from properties.gate_rows import ROWS, default_required

SUBCOMMANDS = build_parser()._subparsers._group_actions[0].choices


def _help(*argv: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit:
        build_parser().parse_args([*argv, "--help"])
    assert exit.value.code == 0
    return " ".join(out.getvalue().split())


def _refused(*argv: str) -> str:
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors), pytest.raises(SystemExit) as exit:
        build_parser().parse_args(list(argv))
    assert exit.value.code == 2
    lines = errors.getvalue().strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_the_gate_help_names_every_row_it_can_require():
    text = _help("gate").partition("options:")[2]
    require = text[text.index("--require ROW,...") : text.index("--only ROW,...")]
    for row in ROWS:
        assert re.search(rf"(?<![\w-]){re.escape(row.name)}(?![\w-])", require), f"--require's help omits {row.name}: {require}"
    for row in (*default_required(False), *default_required(True)):
        assert row in require.partition("default:")[2], f"--require's help omits the default {row}"


def test_a_list_is_comma_separated_and_an_unknown_item_is_refused_by_name():
    parse = names(("graph-resident", "inputs_untouched"), "thing")
    assert parse("graph-resident, inputs_untouched") == ("graph-resident", "inputs_untouched")
    with pytest.raises(argparse.ArgumentTypeError, match="unknown thing nope, also; known: graph-resident, inputs_untouched"):
        parse("graph-resident,nope,also")
    said = _refused("campaign", "--laws", "differential,no_such_law")
    assert "argument --laws: unknown law no_such_law" in said, said
    said = _refused("throughput", "--hypothesis-profiles", "dev,slow")
    assert "argument --hypothesis-profiles: unknown Hypothesis profile slow" in said, said


def test_values_are_hyphenated_and_their_underscore_spelling_is_read_as_them():
    args = build_parser().parse_args(["gate", "--require", "no_sync,graph-resident", "--only", "outside_view"])
    assert args.require == ("no-sync", "graph-resident") and args.only == ("outside-view",)
    assert build_parser().parse_args(["campaign", "--launch", "graph_resident"]).launch == "graph-resident"
    assert build_parser().parse_args(["campaign", "--convention", "sglang_fused_decode"]).convention == "sglang-fused-decode"
    assert build_parser().parse_args(["campaign", "--laws", "inputs-untouched"]).laws == ("inputs_untouched",)
    for name, command in SUBCOMMANDS.items():
        for action in command._actions:
            assert not [c for c in action.choices or () if "_" in c], f"{name} {action.option_strings}: {action.choices}"
    assert all("_" not in row.name for row in ROWS)


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_one_spelling_per_option_in_every_command(name):
    options = {string: action for action in SUBCOMMANDS[name]._actions for string in action.option_strings}
    for spec in ("--variant", "--against", "--baseline"):
        if spec in options:
            assert options[spec].metavar == "SPEC" and SPEC_FORMS in options[spec].help, (name, spec)
    assert not {"--mode", "--examples", "--profiles"} & set(options), name
    # A list is one comma-separated value: only replay's files take several.
    assert all(action.nargs not in ("*", "+") for action in options.values()), name


def test_campaign_is_the_one_name_of_the_campaign_and_replay_takes_no_forward_mode():
    assert "fuzz" not in SUBCOMMANDS
    assert "--forward-mode" in _refused("replay", "corpus.json", "--forward-mode", "decode")


@pytest.mark.parametrize(
    "argv",
    [
        ("diff", "--variant", "reference:fill_draft_extend_metadata", "--against", "reference:no_such_callable"),
        ("throughput", "--variant", "reference:no_such_callable"),
    ],
    ids=["diff --against", "throughput --variant"],
)
def test_a_variant_that_does_not_load_is_one_line_and_exit_2(argv, capsys):
    args = build_parser().parse_args(list(argv))
    assert args.handler(args) == 2
    said = capsys.readouterr()
    assert said.out == "" and said.err.strip().splitlines() == ["'reference:no_such_callable': reference has no callable 'no_such_callable'"], said.err


def test_the_child_processes_parse_the_commands_options_without_the_commands():
    """properties.memcheck and properties.past_int32 start themselves as children (under the
    sanitizer, past 2^31): they take their command's options, spelled alike, and import no command."""
    from properties import memcheck, past_int32

    for module, command in ((memcheck, "memcheck"), (past_int32, "past-int32")):
        child = {action.dest for parent in module.parents() for action in parent._actions}
        assert child <= {action.dest for action in SUBCOMMANDS[command]._actions}, (command, child)
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, properties.memcheck, properties.past_int32, properties.options; print(*sorted(sys.modules))"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    assert not [name for name in loaded if name in ("properties.gate", "properties.mutation") or name.startswith("properties.cli")], loaded


@pytest.mark.skipif(torch.cuda.is_available(), reason="the interpreter is the CPU's; a GPU machine runs the kernel itself")
def test_the_command_line_picks_the_interpreter_before_anything_loads_the_kernel():
    """Without a GPU, Triton must be told to interpret before a @triton.jit function is made: the
    command line says so first, before parsing (parsing `mutants --only` loads every mutant, and the
    shipped kernel with them). Told too late, every kernel call fails with `0 active drivers`, which
    the mutation hunt would count as kills."""
    env = {key: value for key, value in os.environ.items() if key != "TRITON_INTERPRET"}
    probe = (
        "import os, sys\n"
        "from properties.cli import main\n"
        "try:\n    main(['mutants', '--only', 'cu_seqlens_exclusive', '--help'])\n"
        "except SystemExit:\n    pass\n"
        "import kernel.dsa_metadata as body\n"
        "print(os.environ.get('TRITON_INTERPRET'), type(body.dsa_metadata_kernel).__name__)\n"
    )
    said = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True).stdout.splitlines()[-1]
    assert said.split() == ["1", "InterpretedFunction"], said
