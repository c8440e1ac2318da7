"""Where the suite runs, which implementation it judges, and running one on a case."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from properties.cases import DraftExtendCase
from reference.buffers import DraftExtendMetadataBuffers

SHIPPED_KERNEL = "kernel:fill_draft_extend_metadata"
REFERENCE = "reference:fill_draft_extend_metadata"

Contract = Callable[..., None]


def prepare_runtime() -> torch.device:
    """The device the suite runs on: the GPU when there is one, else the CPU with Triton's
    interpreter, which must be switched on before Triton is first imported."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    os.environ.setdefault("TRITON_INTERPRET", "1")
    return torch.device("cpu")


class BadVariant(ValueError):
    """A variant that cannot be loaded or called as named: one line a person can act on."""


@dataclass(frozen=True)
class Variant:
    """An implementation under test, named as MODULE:CALLABLE or path/to/file.py:CALLABLE, and the
    contract-shaped callable that its calling convention turns it into."""

    spec: str
    fill: Contract
    convention: str = "contract"

    @property
    def name(self) -> str:
        return self.spec if self.convention == "contract" else f"{self.spec} [{self.convention}]"


def _import(target: str, spec: str):
    if target.endswith(".py"):
        path = Path(target)
        if not path.is_file():
            raise BadVariant(f"{spec!r}: no such file {target}")
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


def load_variant(spec: str, convention: str = "contract") -> Variant:
    """The variant `spec` names, called through `convention` (properties.conventions)."""
    from properties.conventions import adapt

    target, sep, attr = spec.rpartition(":")
    if not sep or not target or not attr:
        raise BadVariant(f"a variant is named MODULE:CALLABLE or path/to/file.py:CALLABLE, got {spec!r}")
    fill = getattr(_import(target, spec), attr, None)
    if not callable(fill):
        raise BadVariant(f"{spec!r}: {target} has no callable {attr!r}")
    return Variant(spec, adapt(fill, convention, spec), convention)


MODES = ("host_sized", "graph_resident", "static_width")
DEFAULT_DOMAIN = "sglang"


def graph_resident(fill: Contract) -> Contract:
    """The contract's signature over a variant's graph-resident mode (max_seqlen_k=None): the
    max_seqlen_k it is given is the one the reference takes, max(seq_lens), and is not passed on."""

    def resident(*args, nsa_index_topk, page_size, max_seqlen_k):
        fill(*args, nsa_index_topk=nsa_index_topk, page_size=page_size, max_seqlen_k=None)

    return resident


def declares(variant: Variant, mode: str) -> bool:
    """Whether the variant declares `mode`: host-sized always; graph-resident with
    `fill.supports_graph_resident = True`; static-width with `fill.supports_static_extend_len = True`."""
    flag = {"host_sized": None, "graph_resident": "supports_graph_resident", "static_width": "supports_static_extend_len"}[mode]
    return flag is None or bool(getattr(variant.fill, flag, False))


def in_mode(
    variant: Variant, mode: str, domain: str = DEFAULT_DOMAIN
) -> tuple[Contract, Callable[[DraftExtendCase], DraftExtendCase]] | None:
    """(the callable the laws judge, how a generated case reads in this mode and domain), or None
    where the variant does not declare the mode."""
    if not declares(variant, mode):
        return None
    if mode == "graph_resident":
        return graph_resident(variant.fill), lambda case: _longest_as_max(case.in_domain(domain))
    if mode == "static_width":
        return variant.fill, lambda case: case.in_domain(domain).static_width()
    return variant.fill, lambda case: case.in_domain(domain)


def _longest_as_max(case: DraftExtendCase) -> DraftExtendCase:
    return case.with_changes(max_seqlen_k=case.longest)


_ON_HOST: ContextVar[DraftExtendCase | None] = ContextVar("case_on_host", default=None)


@contextmanager
def on_host(case: DraftExtendCase):
    """Makes `case`'s plain values what the host knows during a call (`host_case()`): a calling
    convention whose kernel takes host ints (the total, the longest extension) reads them there, as
    the serving engine holds them on the host, so the harness never syncs with the device for them."""
    token = _ON_HOST.set(case)
    try:
        yield
    finally:
        _ON_HOST.reset(token)


def host_case() -> DraftExtendCase | None:
    return _ON_HOST.get()


@dataclass
class Run:
    """One call of an implementation: its inputs, and its buffers before and after."""

    case: DraftExtendCase
    inputs: tuple[torch.Tensor, ...]
    before: DraftExtendMetadataBuffers
    after: DraftExtendMetadataBuffers


def run(fill: Contract, case: DraftExtendCase, device: torch.device, sentinel: int | None = None) -> Run:
    inputs = case.inputs(device)
    before = case.buffers(device, sentinel)
    after = before.clone()
    with on_host(case):
        fill(*inputs, after, **case.options())
    return Run(case, inputs, before, after)


def run_reference(case: DraftExtendCase, device: torch.device, sentinel: int | None = None) -> Run:
    from reference import fill_draft_extend_metadata

    return run(fill_draft_extend_metadata, case, device, sentinel)
