"""Triage tools: where two variants disagree, and which one the reference sides with."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from properties.cases import ReplayCase
from properties.compare import Mismatch, compare, disagreeing_cells, report
from properties.harness import Variant, run, run_reference
from properties.failures import Failure
from properties.faults import DEFAULT_FAULT_CORPUS, ContextLost, CudaFault, confirm, first_fault, guarded
from properties.search import find_failure
from properties.strategies import replay_cases


@dataclass
class Disagreement:
    case: ReplayCase
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
            f"{variant} and {against} disagree on {self.case.summary()}",
            f"(cells as {against} wrote them = expected, as {variant} wrote them = got)",
            report(self.between),
            self.verdict(variant, against),
        ]
        for name, mismatches in ((variant, self.variant_vs_reference), (against, self.against_vs_reference)):
            if mismatches:
                lines.append(f"\n{name} against the reference:\n{report(mismatches)}")
        return "\n".join(lines)


def find_disagreement(
    variant: Variant,
    against: Variant,
    device: torch.device,
    *,
    max_examples: int,
    seed_value: int,
    shrink_seconds: float | None,
) -> tuple[int, Disagreement | None]:
    """Generate cases until the two variants write different buffers (or one raises); shrink the
    first such case within `shrink_seconds`. Returns (cases tried, the disagreement or None). Both
    variants must be of one forward mode, whose cases are generated."""
    if variant.forward_mode != against.forward_mode:
        raise ValueError(f"{variant.name} is judged in {variant.forward_mode}, {against.name} in {against.forward_mode}: no common case")

    def synced_run(v: Variant, case: ReplayCase):
        # A kernel's fault surfaces at the next sync: it must come inside the call that launched it,
        # or the next variant's call takes the blame (seen on an H100 with an illegal address).
        after = run(v.fill, case, device).after
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return after

    def fault_said(fault) -> str:
        return f"{fault.headline()}; {confirm(fault, DEFAULT_FAULT_CORPUS)}"

    def outputs(v: Variant, case: ReplayCase):
        law = "run_variant" if v is variant else "run_against"
        try:
            return guarded(lambda: synced_run(v, case), case, law=law, spec=v.spec, convention=v.convention)
        except ContextLost as lost:
            return str(lost)
        except CudaFault as fault:
            return fault_said(fault.fault)
        except Exception as error:  # a crash is a disagreement of its own kind
            return f"{type(error).__name__}: {error}"

    def check(case: ReplayCase) -> Failure | None:
        fault = first_fault()
        if fault is not None and fault.case != case:
            return None  # the CUDA context was lost to an earlier case: nothing about this one is known
        a, b = outputs(variant, case), outputs(against, case)
        if isinstance(a, str) or isinstance(b, str):
            return Failure(case, "variants_agree", "a variant raised")
        reference = run_reference(case, device)
        if disagreeing_cells(case, a, b, reference.before, reference.after):
            return Failure(case, "variants_agree", "the variants disagree")
        return None

    tried, found = find_failure(
        check, max_examples=max_examples, shrink_seconds=shrink_seconds, seed_value=seed_value,
        strategy=replay_cases(variant.forward_mode),
    )
    if found is None:
        return tried, None
    fault = first_fault()
    if fault is not None:
        # The context is lost: what the faulting call raised is all there is to say of its case.
        faulted = variant.name if fault.law == "run_variant" else against.name
        return tried, Disagreement(fault.case, [], [], [], {faulted: fault_said(fault)})
    case = found.case
    reference = run_reference(case, device)
    expected, before = reference.after, reference.before
    a, b = outputs(variant, case), outputs(against, case)
    crashes = {v.name: out for v, out in ((variant, a), (against, b)) if isinstance(out, str)}
    if crashes:
        return tried, Disagreement(case, [], [], [], crashes)
    return tried, Disagreement(
        case, compare(case, b, a, before), compare(case, expected, a, before), compare(case, expected, b, before), {}
    )
