"""The vocabulary every command shares: one spelling, one help text and one set of choices per
option, each drawn from its registry, in argparse parents that the commands (and conftest.py's
pytest options) take.

Values are spelled with hyphens; an underscore spelling is read as its hyphenated twin, so
`--require no_sync` and `--launch host_sized` still parse. A list is comma-separated everywhere
(`--laws differential,inputs_untouched`), read by `names`, which refuses an unknown item naming it.
Law and mutant names are the Python names of what they name, and keep their underscores.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from typing import Callable, Iterable

from properties.cases import DOMAINS
from properties.conventions import CONVENTION_CHOICES
from properties.gate_rows import FAMILIES, required_help
from properties.harness import DEFAULT_DOMAIN, LAUNCH_FORMS, MODES, hyphenated
from reference.engines import DEFAULT_PROFILE, ENGINE_PROFILES
from reference.modes import DEFAULT_FORWARD_MODE, FORWARD_MODES

SPEC_FORMS = "MODULE:CALLABLE, path/to/file.py:CALLABLE, or a fetched SGLang release's kernel, sglang==VERSION:[kpool:]MODE"
VARIANT_HELP = f"the implementation judged, {SPEC_FORMS} (default: the shipped kernel of the forward mode)"
CONVENTION_HELP = (
    f"how the variant is called: {', '.join(CONVENTION_CHOICES)} (properties/conventions.py; sglang: each of SGLang's "
    "fused kernels through its own mode's, and with a module named alone, every entry point it has)"
)
FORWARD_MODE_HELP = f"the forward mode whose contract judges the variant (default: the one the convention implies, else {DEFAULT_FORWARD_MODE})"
PROFILE_HELP = f"the engine profile whose contract judges the variant (default {DEFAULT_PROFILE})"
DOMAIN_HELP = "; ".join(f"{name}: {allows}" for name, allows in DOMAINS.items())
LAUNCH_HELP = "; ".join(f"{hyphenated(mode)}: {given}" for mode, given in MODES.items())
REQUIRE_HELP = f"the rows that must pass, of {', '.join(FAMILIES)} (default: {required_help()})"


def choice(known: Iterable[str]) -> Callable[[str], str]:
    """An argparse `type` that reads a value in either spelling as the hyphenated one of `known`,
    leaving an unknown value for argparse's `choices` to refuse."""
    spelled = {hyphenated(name): name for name in known}
    return lambda value: spelled.get(hyphenated(value), value)


def names(known: Iterable[str] | Callable[[], Iterable[str]], what: str) -> Callable[[str], tuple[str, ...]]:
    """An argparse `type` for a comma-separated list of `known` names (a callable: looked up when
    the option is given), each read in either spelling; an unknown item is refused naming it and the
    known ones, after the option's name that argparse puts first."""

    def parse(text: str) -> tuple[str, ...]:
        spelled = {hyphenated(name): name for name in (known() if callable(known) else known)}
        items = tuple(item.strip() for item in text.split(",") if item.strip())
        unknown = [item for item in items if hyphenated(item) not in spelled]
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown {what} {', '.join(unknown)}; known: {', '.join(spelled.values())}")
        return tuple(spelled[hyphenated(item)] for item in items)

    return parse


rows = names(FAMILIES, "row")


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Help wrapped between words alone: a value such as graph-resident stays whole on its line."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


class Parser(argparse.ArgumentParser):
    """A usage error is one line on stderr and exit status 2, as a variant that does not load is."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        print(f"{self.prog}: {message}", file=sys.stderr)
        sys.exit(2)


def _parent() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(add_help=False)


def variant_parent(help_text: str = VARIANT_HELP, *, required: bool = False) -> argparse.ArgumentParser:
    parent = _parent()
    parent.add_argument("--variant", metavar="SPEC", required=required, help=help_text)
    return parent


def convention_parent(default: str | None = "contract", help_text: str = CONVENTION_HELP) -> argparse.ArgumentParser:
    parent = _parent()
    parent.add_argument("--convention", type=choice(CONVENTION_CHOICES), choices=CONVENTION_CHOICES, default=default, metavar="NAME", help=help_text)
    return parent


def forward_mode_parent(*also: str, help_text: str = FORWARD_MODE_HELP) -> argparse.ArgumentParser:
    """--forward-mode, of the forward modes and `also` (throughput's `all`)."""
    parent = _parent()
    known = (*FORWARD_MODES, *also)
    parent.add_argument("--forward-mode", type=choice(known), choices=known, help=help_text)
    return parent


def profile_parent(help_text: str = PROFILE_HELP) -> argparse.ArgumentParser:
    parent = _parent()
    parent.add_argument("--profile", type=choice(ENGINE_PROFILES), choices=ENGINE_PROFILES, help=help_text)
    return parent


def judged_parents(convention_default: str | None = "contract", convention_help: str = CONVENTION_HELP) -> list[argparse.ArgumentParser]:
    """--convention, --forward-mode and --profile: how the variant is called and which contract judges it."""
    return [convention_parent(convention_default, convention_help), forward_mode_parent(), profile_parent()]


def domain_parent() -> argparse.ArgumentParser:
    parent = _parent()
    parent.add_argument("--domain", choices=DOMAINS, default=DEFAULT_DOMAIN, help=DOMAIN_HELP)
    return parent


def budget_parent(max_examples: int, help_text: str, *, minutes: str | None = None) -> argparse.ArgumentParser:
    """--max-examples N, and where `minutes` says what the time goes to, --minutes M instead."""
    parent = _parent()
    budget = parent.add_mutually_exclusive_group() if minutes else parent
    budget.add_argument("--max-examples", type=int, metavar="N", default=max_examples, help=f"{help_text} (default {max_examples})")
    if minutes:
        budget.add_argument("--minutes", type=float, metavar="M", help=minutes)
    return parent


def shrink_parent(seconds: float, help_text: str = "time box for shrinking each failure found") -> argparse.ArgumentParser:
    parent = _parent()
    parent.add_argument("--shrink-seconds", type=float, metavar="S", default=seconds, help=f"{help_text} (default {seconds:g})")
    return parent


def seed_parent() -> argparse.ArgumentParser:
    parent = _parent()
    parent.add_argument("--seed", type=int, metavar="N", default=0, help="the seed of the generated cases: a run with the same seed draws the same (default 0)")
    return parent


def named(args) -> tuple[str, str] | None:
    """(spec, forward mode) of the variant the command names, by its convention; None, after one line
    on stderr, where the convention and the forward mode disagree."""
    from properties.harness import SHIPPED_KERNELS, BadVariant, implied_options

    try:
        convention, mode = implied_options(args.variant, getattr(args, "convention", None), args.forward_mode)
        if hasattr(args, "convention"):
            args.convention = convention
        args.forward_mode = mode
    except BadVariant as error:
        print(error, file=sys.stderr)
        return None
    return args.variant or SHIPPED_KERNELS[mode], mode


def load(args):
    """The variant the command names, loaded through its convention; None, after one line on stderr,
    where it cannot be loaded."""
    if (spec_mode := named(args)) is None:
        return None
    return loaded(spec_mode[0], args.convention, spec_mode[1], args.profile)


def loaded(spec: str, convention: str, forward_mode: str, profile: str | None):
    """The variant `spec` names (properties.harness.load_variant); None, after one line on stderr,
    where it cannot be loaded."""
    from properties.harness import BadVariant, load_variant

    try:
        return load_variant(spec, convention, forward_mode, profile)
    except BadVariant as error:
        print(error, file=sys.stderr)
        return None
