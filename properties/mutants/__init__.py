"""Planted-defect variants of the contract, one module per defect, to check that the suite kills them.

Each module `properties.mutants.<name>` defines `fill_draft_extend_metadata` with the contract's
signature and one small defect. An eager mutant's docstring says which; a Triton mutant is the shipped
module with the edit that `_kernel_patches.PATCHES[<name>]` describes. `MUTANTS` maps name ->
MODULE:CALLABLE. Modules whose names start with '_' are helpers, not mutants.
"""

from __future__ import annotations

import pkgutil

MUTANTS: dict[str, str] = {
    info.name: f"{__name__}.{info.name}:fill_draft_extend_metadata"
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name)
    if not info.name.startswith("_")
}

__all__ = ["MUTANTS"]
