"""Calling conventions: how a variant with another signature is called as the contract.

`contract` is the suite's own signature (reference.fill_draft_extend_metadata). Each other convention
wraps a callable of an existing kernel's signature into that one.
"""

from __future__ import annotations

from typing import Callable

from properties.harness import BadVariant, Contract

CONVENTIONS: dict[str, Callable[[Callable], Contract]] = {
    "contract": lambda fill: fill,
}


def adapt(fill: Callable, convention: str, spec: str) -> Contract:
    if convention not in CONVENTIONS:
        raise BadVariant(f"unknown convention {convention!r}; known: {', '.join(CONVENTIONS)}")
    return CONVENTIONS[convention](fill)
