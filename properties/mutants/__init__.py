"""Planted-defect variants of the contracts, one module per defect, to check that the suite kills them.

Each module `properties.mutants.<name>` defines the fill of each forward mode its defect is in, with
that mode's contract signature and one small defect. An eager mutant is draft-extend's, and its
docstring says which defect; a Triton mutant is the shipped module with the edit that
`_kernel_patches.PATCHES[<name>]` describes, and defines the fills of every mode, of which
`mutants_of` lists those of the modes the edit is in (`Patch.forward_modes`). `MUTANTS` maps name ->
MODULE:CALLABLE for draft-extend. Modules whose names start with '_' are helpers, not mutants.
"""

from __future__ import annotations

import pkgutil

from properties.mutants._kernel_patches import FILL_NAMES, FORWARD_MODE_NAMES, PATCHES

_NAMES = [info.name for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name) if not info.name.startswith("_")]


def mutants_of(mode_name: str) -> dict[str, str]:
    """name -> MODULE:CALLABLE of every mutant whose defect is in forward mode `mode_name`."""
    fill = FILL_NAMES[FORWARD_MODE_NAMES.index(mode_name)]
    return {
        name: f"{__name__}.{name}:{fill}"
        for name in _NAMES
        if (mode_name in PATCHES[name].forward_modes if name in PATCHES else mode_name == "draft-extend")
    }


MUTANTS: dict[str, str] = mutants_of("draft-extend")

__all__ = ["MUTANTS", "mutants_of"]
