"""Triage tools: where two variants disagree, and which one the reference sides with."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from hypothesis import HealthCheck, given, seed, settings

from properties.cases import DraftExtendCase
from properties.compare import Mismatch, compare, report
from properties.harness import Variant, run, run_reference
from properties.strategies import draft_extend_cases


@dataclass
class Disagreement:
    case: DraftExtendCase
    between: list[Mismatch]  # `against` taken as expected, `variant` as got
    variant_vs_reference: list[Mismatch]
    against_vs_reference: list[Mismatch]
    crashes: dict[str, str]

    def verdict(self, variant: str, against: str) -> str:
        if self.crashes:
            return "; ".join(f"{name} raised {error}" for name, error in self.crashes.items())
        if not self.variant_vs_reference:
            return f"the reference sides with {variant}"
        if not self.against_vs_reference:
            return f"the reference sides with {against}"
        return "the reference sides with neither"

    def describe(self, variant: str, against: str) -> str:
        lines = [
            f"{variant} and {against} disagree on {self.case}",
            f"(cells as {against} wrote them = expected, as {variant} wrote them = got)",
            report(self.between),
            self.verdict(variant, against),
        ]
        for name, mismatches in ((variant, self.variant_vs_reference), (against, self.against_vs_reference)):
            if mismatches:
                lines.append(f"\n{name} against the reference:\n{report(mismatches)}")
        return "\n".join(lines)


def find_disagreement(
    variant: Variant, against: Variant, device: torch.device, *, max_examples: int, seed_value: int
) -> tuple[int, Disagreement | None]:
    """Generate cases until the two variants write different buffers; shrink the first such case.
    Returns (cases tried, the shrunk disagreement or None)."""
    tried = [0]
    found: list[DraftExtendCase] = []

    def outputs(v: Variant, case: DraftExtendCase):
        try:
            return run(v.fill, case, device).after
        except Exception as error:  # a crash is a disagreement of its own kind
            return f"{type(error).__name__}: {error}"

    @seed(seed_value)
    @settings(max_examples=max_examples, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=draft_extend_cases())
    def agree(case):
        tried[0] += 1
        a, b = outputs(variant, case), outputs(against, case)
        if isinstance(a, str) or isinstance(b, str) or compare(case, b, a):
            found[:] = [case]
            raise AssertionError("the variants disagree")

    try:
        agree()
    except AssertionError:
        case = found[0]
        expected = run_reference(case, device).after
        a, b = outputs(variant, case), outputs(against, case)
        crashes = {v.name: out for v, out in ((variant, a), (against, b)) if isinstance(out, str)}
        if crashes:
            return tried[0], Disagreement(case, [], [], [], crashes)
        return tried[0], Disagreement(
            case, compare(case, b, a), compare(case, expected, a), compare(case, expected, b), {}
        )
    return tried[0], None
