"""How fast the differential property runs, and where its time goes.

Each example of `differential` is split into the phases a profile would point at: Hypothesis
generating the case, building the tensors on the device, the reference, the variant, and the
comparison. The figures are wall time with a device synchronize closing each phase, so each phase is
charged for its own device work.
"""

from __future__ import annotations

import time
from collections import defaultdict

import torch
from hypothesis import HealthCheck, given, seed, settings

from properties.compare import compare
from properties.harness import Variant, on_host
from properties.strategies import replay_cases

PHASES = ("generate", "materialize", "reference", "variant", "compare")


def measure(variant: Variant, device: torch.device, profile: str, examples: int, seed_value: int = 0) -> dict:
    from reference.eager import FILLS

    reference = FILLS[variant.forward_mode]
    spent: dict[str, float] = defaultdict(float)
    count = 0
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    clock = [0.0]

    def lap(phase: str) -> None:
        sync()
        now = time.perf_counter()
        spent[phase] += now - clock[0]
        clock[0] = now

    base = settings.get_profile(profile)

    @seed(seed_value)
    @settings(base, max_examples=examples, database=None, suppress_health_check=list(HealthCheck))
    @given(case=replay_cases(mode_name=variant.forward_mode))
    def differential_example(case):
        nonlocal count
        lap("generate")
        inputs = case.inputs(device)
        expected = case.buffers(device)
        got = expected.clone()
        lap("materialize")
        reference(*inputs, expected, **case.options())
        lap("reference")
        with on_host(case):
            variant.fill(*inputs, got, **case.options())
        lap("variant")
        assert not compare(case, expected, got)
        lap("compare")
        count += 1

    start = time.perf_counter()
    clock[0] = start
    differential_example()
    wall = time.perf_counter() - start
    return {
        "forward_mode": variant.forward_mode,
        "profile": profile,
        "seed": seed_value,
        "examples": count,
        "wall_s": wall,
        "examples_per_s": count / wall,
        "phase_s": {phase: spent[phase] for phase in PHASES},
    }


def measure_cold_and_warm(variant: Variant, device: torch.device, profile: str, examples: int) -> list[dict]:
    """The first pass pays for compiling every kernel specialisation the cases need (dtypes, page
    size, stride alignment); the second, on new cases, shows the steady state of a long campaign."""
    cold = measure(variant, device, profile, examples, seed_value=0)
    warm = measure(variant, device, profile, examples, seed_value=1)
    return [{**cold, "pass": "cold"}, {**warm, "pass": "warm"}]


def describe(result: dict) -> str:
    phases = result["phase_s"]
    total = sum(phases.values()) or 1.0
    split = "  ".join(f"{p} {100 * phases[p] / total:.0f}%" for p in PHASES)
    return (
        f"{result.get('forward_mode', 'draft-extend'):<13} {result['profile']:<5} {result.get('pass', ''):<5} "
        f"{result['examples']:>5} examples in {result['wall_s']:.1f}s: "
        f"{result['examples_per_s']:.1f} differential examples/s   ({split})"
    )
