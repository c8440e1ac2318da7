"""Where the suite runs, which implementation it judges, and running one on a case."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Variant:
    """An implementation of the contract under test, named as MODULE:CALLABLE."""

    spec: str
    fill: Contract

    @property
    def name(self) -> str:
        return self.spec


def load_variant(spec: str) -> Variant:
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"a variant is named MODULE:CALLABLE, got {spec!r}")
    module = importlib.import_module(module_name)
    fill = getattr(module, attr, None)
    if not callable(fill):
        raise ValueError(f"{spec!r}: {module_name} has no callable {attr!r}")
    return Variant(spec, fill)


MODES = ("host_sized", "graph_resident")


def graph_resident(fill: Contract) -> Contract:
    """The contract's signature over a variant's graph-resident mode (max_seqlen_k=None): the
    max_seqlen_k it is given is the one the reference takes, max(seq_lens), and is not passed on."""

    def resident(*args, nsa_index_topk, page_size, max_seqlen_k):
        fill(*args, nsa_index_topk=nsa_index_topk, page_size=page_size, max_seqlen_k=None)

    return resident


def in_mode(variant: Variant, mode: str) -> tuple[Contract, Callable[[DraftExtendCase], DraftExtendCase]] | None:
    """(the callable the laws judge, how a generated case reads in this mode), or None where the
    variant does not declare the mode (`fill.supports_graph_resident = True`)."""
    if mode == "host_sized":
        return variant.fill, lambda case: case
    if not getattr(variant.fill, "supports_graph_resident", False):
        return None
    return graph_resident(variant.fill), lambda case: case.with_changes(max_seqlen_k=max(case.seq_lens))


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
    fill(*inputs, after, **case.options())
    return Run(case, inputs, before, after)


def run_reference(case: DraftExtendCase, device: torch.device, sentinel: int | None = None) -> Run:
    from reference import fill_draft_extend_metadata

    return run(fill_draft_extend_metadata, case, device, sentinel)
