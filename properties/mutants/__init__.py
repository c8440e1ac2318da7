"""Planted-defect variants of the contracts, one per defect, to check that the suite kills them.

A mutant is named by the spec `properties.mutants.<name>:<fill>`, where <fill> is a forward mode's
fill name (reference.modes: fill_draft_extend_metadata, fill_decode_metadata,
fill_target_verify_metadata), as any variant is named MODULE:CALLABLE. Two kinds answer to it:

- an eager mutant is a module of this package, draft-extend's fill with its defect planted around
  the reference, its docstring saying which defect;
- a Triton mutant is an entry of `_kernel_patches.PATCHES`, an edit of the shipped kernel with no
  file of its own: an import hook (`_TritonMutants`) makes `properties.mutants.<name>` the module of
  its fills, one per forward mode, of which `mutants_of` lists those of the modes its edit is in
  (`Patch.forward_modes`).

`MUTANTS` maps name -> spec for draft-extend. Modules whose names start with '_' are helpers, not
mutants.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import pkgutil
import sys

from properties.mutants._kernel_patches import PATCHES, mutant
from reference.modes import DRAFT_EXTEND, FORWARD_MODES

_EAGER = [info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")]
NAMES = sorted([*_EAGER, *PATCHES])


class _TritonMutants(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds `properties.mutants.<name>` for each kernel patch: a module holding the mutant's fills,
    each under its forward mode's fill name, so that a Triton mutant's spec reads as an eager one's."""

    def find_spec(self, fullname, path=None, target=None):
        package, _, name = fullname.rpartition(".")
        if package != __name__ or name not in PATCHES:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        return None

    def exec_module(self, module) -> None:
        for fill in mutant(module.__name__.rpartition(".")[2]):
            setattr(module, fill.__name__, fill)


sys.meta_path.append(_TritonMutants())


def mutants_of(mode_name: str) -> dict[str, str]:
    """name -> spec of every mutant whose defect is in forward mode `mode_name`."""
    fill = FORWARD_MODES[mode_name].fill_name
    return {
        name: f"{__name__}.{name}:{fill}"
        for name in NAMES
        if (mode_name in PATCHES[name].forward_modes if name in PATCHES else mode_name == DRAFT_EXTEND.name)
    }


MUTANTS: dict[str, str] = mutants_of(DRAFT_EXTEND.name)

__all__ = ["MUTANTS", "NAMES", "mutants_of"]
