"""Where the suite runs, which implementation it judges, and running one on a case."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from properties.cases import ReplayCase
from properties.conventions import CONVENTION_FAMILIES, SGLANG_ENTRY_POINTS, adapt, implied_forward_mode, in_family
from properties.peers import is_peer_spec, peer_kernel
# Re-exported: the suite's modules and the tests know these as the harness's.
from properties.host import BadVariant, Contract, host_case, on_host  # noqa: F401
from reference.buffers import MetadataBuffers
from reference.eager import FILLS
from reference.engines import DEFAULT_PROFILE, engine_profile
from reference.modes import DEFAULT_FORWARD_MODE, DRAFT_EXTEND, FORWARD_MODES

# The shipped kernel and the reference, per forward mode: what `--variant` judges by default.
SHIPPED_KERNELS = {name: f"kernel:{mode.fill_name}" for name, mode in FORWARD_MODES.items()}
REFERENCES = {name: f"reference:{fill.__name__}" for name, fill in FILLS.items()}


def prepare_runtime() -> torch.device:
    """The device the suite runs on: the GPU when there is one, else the CPU with Triton's
    interpreter, which must be switched on before Triton is first imported."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    os.environ.setdefault("TRITON_INTERPRET", "1")
    return torch.device("cpu")


@dataclass(frozen=True)
class Variant:
    """An implementation under test, named as MODULE:CALLABLE or path/to/file.py:CALLABLE, the
    contract-shaped callable that its calling convention turns it into, the forward mode whose
    contract it is judged by, and the engine profile that states that contract (reference.engines)."""

    spec: str
    fill: Contract
    convention: str = "contract"
    forward_mode: str = DEFAULT_FORWARD_MODE
    profile: str = DEFAULT_PROFILE

    @property
    def name(self) -> str:
        return self.spec if self.convention == "contract" else f"{self.spec} [{self.convention}]"


def import_target(target: str, spec: str):
    """The module `target` names (a dotted name, or path/to/file.py: under its dotted name where it
    lies in a package tree); BadVariant, naming `spec`, where it cannot be imported."""
    if target.endswith(".py"):
        path = Path(target)
        if not path.is_file():
            raise BadVariant(f"{spec!r}: no such file {target}")
        packaged = _import_from_package(path)
        if packaged is not None:
            return packaged
        name = "_variant_" + hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
        if name in sys.modules:
            return sys.modules[name]
        module_spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        try:
            module_spec.loader.exec_module(module)
        except Exception as error:
            del sys.modules[name]
            raise BadVariant(f"{spec!r}: importing {target} raised {type(error).__name__}: {error}") from error
        return module
    try:
        return importlib.import_module(target)
    except ImportError as error:
        raise BadVariant(f"{spec!r}: cannot import {target} ({error})") from error


def _package_root_on_path(path: Path) -> str | None:
    """A file inside a package tree imports its siblings by their absolute or relative names
    (SGLang's KPool kernels import `sglang.kernels....scan`, kernel/sglang.py `from . import`): the
    folder above the tree's top package goes first on sys.path, so that those names resolve to the
    tree the file came from. Returns the file's dotted module name there (None outside a package)."""
    file = path.resolve()
    folder = file.parent
    if not (folder / "__init__.py").is_file():
        return None
    while (folder.parent / "__init__.py").is_file():
        folder = folder.parent
    root = folder.parent
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return ".".join(file.relative_to(root).with_suffix("").parts)


def _import_from_package(path: Path):
    """The file imported under its dotted name in its package tree, or None where it is in none, or
    that name is already another file's (a package of the same name imported from elsewhere)."""
    name = _package_root_on_path(path)
    if name is None:
        return None
    try:
        module = importlib.import_module(name)
    except ImportError:
        return None
    return module if Path(module.__file__).resolve() == path.resolve() else None


def variant_forward_mode(convention: str, forward_mode: str | None) -> str:
    """The forward mode a variant is judged in: the one its convention implies, or the one asked
    for (draft-extend by default); BadVariant where the two disagree."""
    implied = implied_forward_mode(convention)
    if forward_mode is not None and forward_mode not in FORWARD_MODES:
        raise BadVariant(f"unknown forward mode {forward_mode!r}; known: {', '.join(FORWARD_MODES)}")
    if implied and forward_mode and implied != forward_mode:
        raise BadVariant(f"the {convention} convention is the {implied} mode's, not {forward_mode}")
    return implied or forward_mode or DEFAULT_FORWARD_MODE


def implied_options(spec: str | None, convention: str | None, forward_mode: str | None) -> tuple[str | None, str]:
    """(convention, forward mode) a variant named `spec` is judged by: a released kernel's short spec
    implies both (properties.peers); SGLang's family of conventions (`sglang`) means the convention of
    the mode its callable's name says, else of the mode asked for; then as variant_forward_mode.
    BadVariant where they disagree."""
    if is_peer_spec(spec):
        peer = peer_kernel(spec)
        if forward_mode not in (None, peer.forward_mode):
            raise BadVariant(f"{spec!r} is the {peer.forward_mode} kernel, not {forward_mode}'s")
        convention = peer.convention if convention in (None, "contract", *CONVENTION_FAMILIES) else convention
        forward_mode = peer.forward_mode
    if convention in CONVENTION_FAMILIES:
        callable_name = (spec or "").rpartition(":")[2]
        named_mode = next((m for m, names in SGLANG_ENTRY_POINTS.items() if callable_name in names), None)
        forward_mode = forward_mode or named_mode or DEFAULT_FORWARD_MODE
        convention = in_family(convention, forward_mode)
    return convention, variant_forward_mode(convention, forward_mode)


def load_variant(spec: str, convention: str = "contract", forward_mode: str | None = None, profile: str | None = None) -> Variant:
    """The variant `spec` names, called through `convention` (properties.conventions), judged in
    `forward_mode` (or the one the convention implies) under the engine profile `profile` (default
    sglang-dsa)."""
    named = spec
    convention, mode = implied_options(spec, convention, forward_mode)
    if is_peer_spec(spec):
        spec = peer_kernel(spec).file_spec  # a released kernel's file in the peers' cache
    try:
        profile = engine_profile(profile or DEFAULT_PROFILE).name
    except ValueError as error:
        raise BadVariant(str(error)) from error
    target, sep, attr = spec.rpartition(":")
    if not sep or not target or not attr:
        raise BadVariant(f"a variant is named MODULE:CALLABLE or path/to/file.py:CALLABLE, got {spec!r}")
    fill = getattr(import_target(target, spec), attr, None)
    if not callable(fill):
        raise BadVariant(f"{spec!r}: {target} has no callable {attr!r}")
    return Variant(named, adapt(fill, convention, spec, mode), convention, mode, profile)


def entry_points(spec: str) -> list[tuple[str, str]] | None:
    """Where `spec` names a module of SGLang's kernels rather than one callable (path/to/file.py,
    sglang==VERSION or sglang==VERSION:kpool), (callable spec, forward mode) of every entry point it
    has, plain and KPool, by SGLang's names; None where it names one callable."""
    if is_peer_spec(spec):
        if spec.count(":") == 0 or spec.endswith(":kpool"):
            kernel_set = ":kpool" if spec.endswith(":kpool") else ""
            return [(f"{spec.removesuffix(':kpool')}{kernel_set}:{mode}", mode) for mode in FORWARD_MODES]
        return None
    if not spec.endswith(".py"):
        return None
    module = import_target(spec, spec)
    found = [(f"{spec}:{name}", mode) for mode, names in SGLANG_ENTRY_POINTS.items() for name in names if callable(getattr(module, name, None))]
    if not found:
        raise BadVariant(f"{spec!r} has none of SGLang's entry points ({', '.join(n for names in SGLANG_ENTRY_POINTS.values() for n in names)})")
    return found


# The launch forms, spelled as code and reproducers spell them (the command line and the reports
# spell them `hyphenated`), each with what the variant is given in it.
MODES = {
    "host_sized": "the host gives max_seqlen_k",
    "graph_resident": "max_seqlen_k=None",
    "static_width": "equal extend lengths",
}
HOST_SIZED, GRAPH_RESIDENT, STATIC_WIDTH = MODES
DEFAULT_DOMAIN = "sglang"


def hyphenated(name: str) -> str:
    """A name as the command line and the reports spell it: launch forms, rows, GPU families, options' values."""
    return name.replace("_", "-")


# Each launch form by its spelling on the command line and in the rows' names.
LAUNCH_FORMS = {hyphenated(mode): mode for mode in MODES}


def graph_resident(fill: Contract) -> Contract:
    """The contract's signature over a variant's graph-resident mode (max_seqlen_k=None): the
    max_seqlen_k it is given is the one the reference takes, max(seq_lens), and is not passed on."""

    def resident(*args, max_seqlen_k, **options):
        fill(*args, max_seqlen_k=None, **options)

    return resident


def declares(variant: Variant, mode: str) -> bool:
    """Whether the variant declares `mode`: host-sized always; graph-resident with
    `fill.supports_graph_resident = True`; static-width, draft-extend's alone, with
    `fill.supports_static_extend_len = True`."""
    if mode == STATIC_WIDTH and variant.forward_mode != DRAFT_EXTEND.name:
        return False
    flag = {HOST_SIZED: None, GRAPH_RESIDENT: "supports_graph_resident", STATIC_WIDTH: "supports_static_extend_len"}[mode]
    return flag is None or bool(getattr(variant.fill, flag, False))


def in_launch_form(
    variant: Variant, mode: str, domain: str = DEFAULT_DOMAIN
) -> tuple[Contract, Callable[[ReplayCase], ReplayCase]] | None:
    """(the callable the laws judge, how a generated case reads in this mode and domain), or None
    where the variant does not declare the mode."""
    if not declares(variant, mode):
        return None
    if mode == GRAPH_RESIDENT:
        return graph_resident(variant.fill), lambda case: _longest_as_max(judged_case(case.in_domain(domain), variant))
    if mode == STATIC_WIDTH:
        return variant.fill, lambda case: judged_case(case.in_domain(domain), variant).static_width()
    return variant.fill, lambda case: judged_case(case.in_domain(domain), variant)


def judged_case(case: ReplayCase, variant: Variant) -> ReplayCase:
    """A generated case as the variant's engine profile sends it: judged by that profile, with a KPool
    size only where the profile pools top-k lengths and the variant takes `index_kpool`, and without
    page_table_1 only where the profile may omit it and the variant declares
    `fill.supports_page_table_1_none`."""
    profile = engine_profile(variant.profile)
    pools = case.index_kpool in profile.index_kpools and getattr(variant.fill, "supports_index_kpool", False)
    omits = profile.page_table_1_optional and getattr(variant.fill, "supports_page_table_1_none", False)
    return case.with_changes(
        profile=profile.name,
        index_kpool=case.index_kpool if pools else 1,
        page_table_1_given=case.page_table_1_given or not omits,
    )


def _longest_as_max(case: ReplayCase) -> ReplayCase:
    return case.with_changes(max_seqlen_k=case.longest)


@dataclass
class Run:
    """One call of an implementation: its inputs, and its buffers before and after."""

    case: ReplayCase
    inputs: tuple[torch.Tensor, ...]
    before: MetadataBuffers
    after: MetadataBuffers


def run(fill: Contract, case: ReplayCase, device: torch.device, sentinel: int | None = None) -> Run:
    inputs = case.inputs(device)
    before = case.buffers(device, sentinel)
    after = before.clone()
    with on_host(case):
        fill(*inputs, after, **case.options())
    return Run(case, inputs, before, after)


def run_reference(case: ReplayCase, device: torch.device, sentinel: int | None = None) -> Run:
    return run(FILLS[case.forward_mode], case, device, sentinel)
