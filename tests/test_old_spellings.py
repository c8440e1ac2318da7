"""Commands and options keep their names: every spelling an earlier release took (properties.cli's
RENAMED_COMMANDS and RENAMED_OPTIONS) still parses, to what today's spelling parses to, after one
line on stderr naming the new one."""

from __future__ import annotations

import contextlib
import io

import pytest

from properties.cli import RENAMED_COMMANDS, RENAMED_OPTIONS, build_parser, respelled

# Every old spelling, as an earlier release's user typed it, beside today's.
OLD_AND_NEW = [
    (["fuzz", "--max-examples", "3"], ["campaign", "--max-examples", "3"]),
    (["campaign", "--mode", "graph_resident"], ["campaign", "--launch", "graph-resident"]),
    (["campaign", "--mode=static_width"], ["campaign", "--launch", "static-width"]),
    (["fuzz", "--laws", "differential", "inputs_untouched", "--seed", "2"], ["campaign", "--laws", "differential,inputs_untouched", "--seed", "2"]),
    (["throughput", "--profiles", "dev", "fuzz", "--examples", "20"], ["throughput", "--hypothesis-profiles", "dev,fuzz", "--max-examples", "20"]),
    (["mutants", "--only", "column_one_past_end", "column_tile_frozen"], ["mutants", "--only", "column_one_past_end,column_tile_frozen"]),
]


def _parsed(argv):
    said = io.StringIO()
    with contextlib.redirect_stderr(said):
        args = build_parser().parse_args(respelled(argv))
    return {k: v for k, v in vars(args).items() if k != "handler"}, said.getvalue()


def test_every_renamed_spelling_is_listed_here():
    listed = {argv[0] for argv, _ in OLD_AND_NEW} | {arg.partition("=")[0] for argv, _ in OLD_AND_NEW for arg in argv if arg.startswith("--")}
    assert set(RENAMED_COMMANDS) <= listed
    assert {option for options in RENAMED_OPTIONS.values() for option in options} <= listed


@pytest.mark.parametrize(("old", "new"), OLD_AND_NEW, ids=lambda argv: " ".join(argv))
def test_an_old_spelling_does_what_the_new_one_does_after_one_line(old, new):
    then, said = _parsed(old)
    now, quiet = _parsed(new)
    assert then == now
    assert quiet == ""
    assert said and all(" is now " in line for line in said.splitlines()), said
