"""Every `python -m properties ...` and `python -m benchmarks...` command in README.md, docs/ and
benchmarks/README.md parses with the parser of the tool it names, so the docs cannot drift from the
command lines they document."""

from __future__ import annotations

import contextlib
import importlib
import io
import re
import shlex
from pathlib import Path

import pytest

from properties.cli import build_parser as properties_parser

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "benchmarks" / "README.md"]
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
INLINE = re.compile(r"`([^`]+)`")
COMMAND = re.compile(r"(?:^|\s)(?:\S*/)?python3?\s+-m\s+(properties|benchmarks\.[\w.]+)(?=\s|$)(.*)")
SHELL_SEPARATOR = re.compile(r"&&|\|\||;|\|")


def snippets(text: str) -> list[str]:
    """Command-like text: the lines of fenced blocks (only the `$ ` lines where a block has any, the
    rest being output) and inline code spans, with a table's escaped pipes restored."""
    found = []
    for block in FENCE.findall(text):
        lines = block.splitlines()
        prompted = [line[2:] for line in lines if line.startswith("$ ")]
        found += prompted or lines
    for span in INLINE.findall(FENCE.sub("", text)):
        found.append(" ".join(span.replace("\\|", "|").split()))
    return found


def commands(page: Path) -> list[tuple[str, list[str]]]:
    """(tool, argv) for every invocation of a tool of this repository on the page."""
    found = []
    for snippet in snippets(page.read_text()):
        for segment in SHELL_SEPARATOR.split(snippet):
            match = COMMAND.search(segment)
            if match:
                found.append((match.group(1), shlex.split(match.group(2))))
    return found


DOCUMENTED = [
    pytest.param(tool, argv, id=f"{page.relative_to(ROOT)}: {tool} {' '.join(argv)}")
    for page in PAGES
    for tool, argv in commands(page)
]


def parser_for(tool: str):
    if tool == "properties":
        return properties_parser()
    return importlib.import_module(tool).build_parser()


def test_the_docs_document_both_tools():
    tools = {tool for tool, _ in (p.values for p in DOCUMENTED)}
    assert {"properties", "benchmarks.replay_metadata"} <= tools, tools


@pytest.mark.parametrize("tool, argv", DOCUMENTED)
def test_documented_command_parses(tool, argv):
    """As the tool's main parses it: an earlier release's spelling (properties.cli.respelled) included."""
    from properties.cli import respelled

    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
            parser_for(tool).parse_args(respelled(argv) if tool == "properties" else argv)
    except SystemExit as exit:
        assert exit.code == 0, f"python -m {tool} {shlex.join(argv)}: {errors.getvalue().strip()}"


def test_the_readme_states_the_engine_profiles_as_their_records_do():
    from reference.engines import profile_table

    assert profile_table() in (ROOT / "README.md").read_text(), "README.md's profile table drifted from reference/engines.py: paste profile_table()"


def test_the_readme_states_the_domain_as_its_records_do():
    from reference.domain import domain_table

    assert domain_table() in (ROOT / "README.md").read_text(), "README.md's domain table drifted from reference/domain.py: paste domain_table()"


def test_the_gate_docs_state_the_rows_as_their_records_do():
    from properties.gate_rows import rows_table

    assert rows_table() in (ROOT / "docs" / "gate.md").read_text(), "docs/gate.md's table of rows drifted from properties/gate_rows.py: paste rows_table()"


def test_the_readme_is_a_five_minute_read():
    """README.md holds at most 1,500 words outside its code blocks; the rest lives under docs/."""
    prose = re.sub(r"```.*?```", "", (ROOT / "README.md").read_text(), flags=re.S)
    assert len(prose.split()) <= 1500, f"README.md has {len(prose.split())} words outside code blocks; move detail to docs/"


def test_the_real_code_page_states_the_verdicts_as_their_records_do():
    from properties.real_code import verdict_table

    assert verdict_table() in (ROOT / "docs" / "real-code.md").read_text(), "docs/real-code.md's table drifted from properties/real_code.py: paste verdict_table()"
