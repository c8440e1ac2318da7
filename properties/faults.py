"""A CUDA fault belongs to the case that raised it.

A device-side assert, an illegal address or a launch failure is sticky: the CUDA context of the
process that raised it fails every later call, whatever its case. Left alone, a search would count
every later case as failing and shrink to a bystander (an empty batch), whose reproducer does not
reproduce. So every judged call goes through `guarded`: the first fault is recorded with its case
(`first_fault`), and from then on

- that case, asked again (Hypothesis replays the failure it keeps), raises the same `CudaFault`
  without calling anything;
- any other case raises `ContextLost`, which is not a verdict: the searches treat it as a case not
  run (it is neither shrunk to nor reported), and the rows and tests after it say they did not run.

`confirm` then reruns the faulting case in a fresh process, through a JSON reproducer and
`python -m properties replay`, and says whether the fault came back there.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from properties.failures import CAPTURE_ERRORS, first_line

# What CUDA says, and the kind of fault a verdict names, most specific first. ("device-side assert
# triggered" in full: PyTorch's words for any CUDA error end by suggesting TORCH_USE_CUDA_DSA "to
# enable device-side assertions".)
FAULT_KINDS = (
    ("device-side assert triggered", "device-side assert"),
    ("illegal memory access", "illegal address"),
    ("illegal address", "illegal address"),
    ("misaligned address", "misaligned address"),
    ("illegal instruction", "illegal instruction"),
    ("unspecified launch failure", "launch failure"),
    ("launch failure", "launch failure"),
    ("launch timed out", "launch failure"),
)


def fault_kind(error: BaseException | None) -> str | None:
    """The kind of sticky CUDA fault `error` (or what it was raised from) reports, or None when it
    is not one. An ordinary exception leaves the context usable, and so does a CUDA error of stream
    capture (`capturing stream has unjoined work`...): the capture is invalidated, not the context,
    and the streams and graph rows judge it. Any other CUDA error is sticky if the context then
    fails a probe."""
    accelerator_error = getattr(torch, "AcceleratorError", None)
    while error is not None:
        text = str(error)
        if (accelerator_error is not None and isinstance(error, accelerator_error)) or "CUDA error" in text:
            known = next((kind for sign, kind in FAULT_KINDS if sign in text), None)
            if known is not None:
                return known
            if any(sign in text for sign, _ in CAPTURE_ERRORS) or context_usable():
                return None
            return "CUDA error"
        error = error.__cause__ or error.__context__
    return None


def context_usable() -> bool:
    """Whether this process's CUDA context still runs work: a sticky error fails every later call.
    A probe outside the hot path: the sync-debug mode the no-sync row sets is lifted for it."""
    if not torch.cuda.is_available() or not torch.cuda.is_initialized():
        return True
    mode = torch.cuda.get_sync_debug_mode()
    torch.cuda.set_sync_debug_mode(0)
    try:
        torch.cuda.synchronize()
        return torch.ones(1, device="cuda").add_(1).item() == 2
    except Exception:
        return False
    finally:
        torch.cuda.set_sync_debug_mode(mode)


@dataclass
class Fault:
    """The first sticky fault of this process: the case and law it was raised on, its kind, CUDA's
    words, and the variant and launch form the call was judged in (for its reproducer)."""

    case: object
    law: str
    kind: str
    said: str
    spec: str | None = None
    convention: str = "contract"
    launch: str = "host_sized"
    where: str = ""  # the pytest test that raised it (its node id), if one did
    confirmation: str | None = None  # what `confirm` found, once run
    reproducer: str | None = None

    def headline(self) -> str:
        return f"CUDA fault ({self.kind}) in {self.law} on {self.case.summary()}: {self.said}"


class CudaFault(Exception):
    """The call raised a sticky CUDA fault: the verdict on its case, and the last this process gives."""

    def __init__(self, fault: Fault):
        super().__init__(fault.headline())
        self.fault = fault


class ContextLost(Exception):
    """A call after this process's CUDA context was lost to an earlier case's fault: no verdict on
    its own case."""

    def __init__(self, fault: Fault):
        super().__init__(f"not run: this process's CUDA context was lost to a {fault.kind} on an earlier case ({fault.case.summary()})")
        self.fault = fault


_FAULTS: list[Fault] = []
# Where a fault's reproducer goes when the command was given no directory for them: the gate's.
DEFAULT_FAULT_CORPUS = Path("dsa-reproducers")


def first_fault() -> Fault | None:
    return _FAULTS[0] if _FAULTS else None


def forget() -> None:
    """Forget the recorded fault: for tests of this module, which fake one on the CPU."""
    _FAULTS.clear()


def _raise(fault: Fault):
    # One raise site, outside any except block: Hypothesis takes a failure for the same one only
    # where its type, place and context match, and it replays the case it keeps.
    raise CudaFault(fault)


def guarded(call: Callable[[], object], case, *, law: str, spec: str | None = None, convention: str = "contract",
            launch: str = "host_sized"):
    """`call()`, judged on `case` under `law`: its result, or CudaFault when it raises the process's
    first sticky fault, or ContextLost for any other case once one has been raised."""
    fault = first_fault()
    if fault is not None:
        if fault.case == case and fault.law == law:
            _raise(fault)
        raise ContextLost(fault)
    try:
        return call()
    except Exception as error:
        kind = fault_kind(error)
        if kind is None:
            raise
        cause = error
        while cause.__cause__ is not None:
            cause = cause.__cause__
        said = first_line(cause)
    # The pytest test it was raised in, by its node id, where one was (pytest sets the variable).
    where = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
    _FAULTS.append(Fault(case, law, kind, said, spec, convention, launch, where))
    _raise(_FAULTS[0])


def confirm(fault: Fault, directory: Path) -> str:
    """Write the fault's case as a JSON reproducer under `directory`, replay it in a fresh process
    (`python -m properties replay`), and say in one line whether the fault came back there. Kept on
    the fault, so that it is done once."""
    if fault.confirmation is not None:
        return fault.confirmation
    from properties.reproducer import to_json, write

    if fault.spec is None:
        fault.confirmation = "not rerun in a fresh process: the variant that raised it is not known here"
        return fault.confirmation
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    record = to_json(
        fault.case, variant=fault.spec, law=fault.law, message=fault.headline(), device=device, mode=fault.launch,
        convention=fault.convention,
    )
    path = write(Path(directory), record)
    fault.reproducer = str(path)
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    try:
        child = subprocess.run(
            [sys.executable, "-m", "properties", "replay", str(path)], capture_output=True, text=True, timeout=600, env=env
        )
        said = child.stdout + child.stderr
    except subprocess.TimeoutExpired:
        said, child = "", None
    # Replay's verdict on the reproducer is the line that names it: judged by it, a process that
    # dies at exit with its context lost (an exit status other than 1) still confirms the fault.
    verdict = next((line for line in said.splitlines() if line.startswith(f"{path}: ")), None)
    if child is None:
        fault.confirmation = f"the fresh process replaying {path} hung past 600 s"
    elif (verdict is not None and f"CUDA fault ({fault.kind})" in verdict) or (child.returncode == 1 and fault.kind in said):
        fault.confirmation = f"confirmed in a fresh process: `python -m properties replay {path}` raises the {fault.kind} again"
    else:
        last = verdict or next((line for line in reversed(said.splitlines()) if line.strip()), "nothing")
        fault.confirmation = (
            f"NOT reproduced in a fresh process (`python -m properties replay {path}` exited {child.returncode}, saying: "
            f"{last.removeprefix(f'{path}: ')[:300]}): the fault may belong to work an earlier case left in flight"
        )
    return fault.confirmation


def fault_report(fault: Fault, launch: str, reproducers: Path | None) -> str:
    """A sticky CUDA fault as a person reads it: its kind and the case that raised it, whether a
    fresh process raises it again on that case's reproducer (written under `reproducers`), and
    CUDA's words."""
    lines = [f"{fault.kind} ({launch}, {fault.law}) on {fault.case.summary()}; no later case was run"]
    if reproducers is not None:
        lines += [confirm(fault, reproducers), f"reproducer: {fault.reproducer}"]
    return "\n".join([*lines, fault.said])


def skip_reason(nodeid: str) -> str | None:
    """Why a test after the process's fault does not run (None when none was raised, or this test
    raised it): its calls would all fail, and none of them would be its own."""
    fault = first_fault()
    if fault is None or fault.where == nodeid:
        return None
    return f"not run: this process's CUDA context was lost to a {fault.kind} in {fault.where or fault.law} on {fault.case.summary()}"

