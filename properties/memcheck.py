"""Memory safety of any variant: its calls on tight buffers, run under `compute-sanitizer --tool memcheck`
(and, as optional gate rows, `racecheck`: shared-memory hazards; `synccheck`: barriers misused;
`initcheck`: reads of device memory nothing wrote).

Tight means nothing around what a call may touch (`ReplayCase.tight`): no spare rows, columns or
requests, no row padding, no guard cells, req_to_token exactly max_seqlen_k wide, so a read or write
past what the contract allows leaves its allocation. PyTorch's caching allocator would still hide it
inside one of its larger blocks (pytorch/pytorch#45294), so the checked process runs with
PYTORCH_NO_CUDA_MEMORY_CACHING=1: every tensor is then an allocation of its own.

`python -m properties.memcheck --variant SPEC` is the process the sanitizer runs (`calls`), with the
options of `python -m properties memcheck` (`parents`) but for the sanitizer's tool; `check_memory`
starts it and reads the sanitizer's verdict.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from properties.harness import DEFAULT_DOMAIN

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = 200  # generated cases per mode, after the edge examples: "a few hundred" in all
ERROR_SUMMARY = re.compile(r"(?:ERROR|RACECHECK) SUMMARY: (\d+) (?:error|hazard)")
TOOLS = ("memcheck", "racecheck", "synccheck", "initcheck")
# racecheck and initcheck cost several times memcheck's time per call: fewer generated cases.
SLOW_TOOL_EXAMPLES = 20


@dataclass
class MemcheckResult:
    errors: int | None  # None: the check could not run (see reason)
    reason: str
    cases: int = 0

    @property
    def passed(self) -> bool:
        return self.errors == 0


def unavailable() -> str | None:
    """Why memcheck cannot run here, or None."""
    import torch

    if not torch.cuda.is_available():
        return "no CUDA device"
    if shutil.which("compute-sanitizer") is None:
        return "compute-sanitizer is not installed"
    return None


def check_memory(
    spec: str, convention: str = "contract", *, max_examples: int = EXAMPLES, domain: str = DEFAULT_DOMAIN, timeout: float = 900,
    tool: str = "memcheck", forward_mode: str | None = None, profile: str | None = None,
) -> MemcheckResult:
    """Run `spec`'s calls on the edge examples and `max_examples` generated cases, tight, in every
    mode it declares, under compute-sanitizer's `tool`."""
    why = unavailable()
    if why:
        return MemcheckResult(None, why)
    if tool not in TOOLS:
        raise ValueError(f"unknown compute-sanitizer tool {tool!r}; known: {', '.join(TOOLS)}")
    if tool != "memcheck":
        max_examples = min(max_examples, SLOW_TOOL_EXAMPLES)
    argv = [
        "compute-sanitizer", "--tool", tool, "--error-exitcode", "99", "--print-limit", "8",
        sys.executable, "-m", "properties.memcheck", "--variant", spec, "--convention", convention,
        "--max-examples", str(max_examples), "--domain", domain,
        *(("--forward-mode", forward_mode) if forward_mode else ()),
        *(("--profile", profile) if profile else ()),
    ]
    env = {**os.environ, "PYTORCH_NO_CUDA_MEMORY_CACHING": "1", "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))}
    try:
        done = subprocess.run(argv, cwd=os.getcwd(), env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return MemcheckResult(None, f"{tool} did not finish within {timeout:.0f} s")
    output = done.stdout + done.stderr
    summary = ERROR_SUMMARY.search(output)
    cases = re.findall(r"memcheck: (\d+) calls", output)
    calls = int(cases[-1]) if cases else 0
    if summary is None or (done.returncode not in (0, 99)):
        tail = "\n".join(output.strip().splitlines()[-12:])
        return MemcheckResult(None, f"the checked process failed (exit {done.returncode}):\n{tail}", calls)
    errors = int(summary.group(1))
    if errors == 0:
        return MemcheckResult(0, f"{tool}: 0 errors over {calls} calls on tight buffers", calls)
    first = [line.removeprefix("========= ").strip() for line in output.splitlines() if line.startswith("=========")]
    detail = "\n".join(line for line in first if line)[:1500]
    return MemcheckResult(errors, f"{tool}: {errors} error(s) on tight buffers:\n{detail}", calls)


def calls(spec: str, convention: str, max_examples: int, domain: str, forward_mode: str | None = None, profile: str | None = None) -> int:
    """Inside the sanitizer: every call, tight, in every mode; returns how many calls were made."""
    import torch
    from hypothesis import HealthCheck, given, settings

    from properties.edges import pinned_examples
    from properties.harness import MODES, in_launch_form, load_variant, prepare_runtime, run
    from properties.strategies import replay_cases

    device = prepare_runtime()
    variant = load_variant(spec, convention, forward_mode, profile)
    calls = [0]
    for mode in MODES:
        judged = in_launch_form(variant, mode, domain)
        if judged is None:
            continue
        fill, adapt = judged

        def call(case) -> None:
            run(fill, adapt(case).tight(), device)
            torch.cuda.synchronize()
            calls[0] += 1

        for case in pinned_examples(variant.forward_mode, gpu=True).values():
            call(case)

        @settings(max_examples=max_examples, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=replay_cases(variant.forward_mode))
        def generated(case):
            call(case)

        generated()
        print(f"memcheck: {calls[0]} calls", flush=True)
    return calls[0]


def parents() -> list:
    """The options of the checked process, which the memcheck command shares."""
    from properties.options import budget_parent, domain_parent, judged_parents, variant_parent

    return [variant_parent(), *judged_parents(), domain_parent(), budget_parent(EXAMPLES, "generated cases per launch form, after the edge examples")]


if __name__ == "__main__":
    # The process compute-sanitizer runs: the calls alone, without the command line's other commands.
    from properties.options import Parser, named

    args = Parser(prog="python -m properties.memcheck", parents=parents()).parse_args()
    if (spec_mode := named(args)) is None:
        sys.exit(2)
    calls(spec_mode[0], args.convention, args.max_examples, args.domain, spec_mode[1], args.profile)
