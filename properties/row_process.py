"""Gate rows in child processes of their own, each bounded in time.

A variant that never returns (negative lengths are known to deadlock a GPU rather than crash it,
vllm-project/vllm#51593) cannot be interrupted in-process: a CUDA hang holds the calling thread in the
driver. So under `--row-timeout S` each row runs in a spawned child that rebuilds the gate from plain
options, says which case it is on before each call (a one-line summary in a progress file), and
sends its verdict back. A child that is still running after S seconds is killed, and its row fails
with `hung after S s` and the case it was running; one that dies fails with its exit code. The gate
goes on to the next row in a fresh process, so neither a hang nor a lost CUDA context reaches it.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from pathlib import Path

FAIL = "fail"  # properties.gate's; this module is imported by it, so it cannot import it back


def _child(conn, options: dict, family: str, progress: str) -> None:
    from properties.gate import Gate
    from properties.harness import load_variant, prepare_runtime

    device = prepare_runtime()
    variant = load_variant(options["spec"], options["convention"], options["forward_mode"], options["profile"])
    gate = Gate(variant, device, **options["gate"])
    gate.budget.on_case = lambda case: Path(progress).write_text(case.summary())
    verdict = gate.run((family,)).verdicts[0]
    conn.send((verdict.status, verdict.detail, verdict.figures))


def run_row(options: dict, family: str, timeout: float) -> tuple[str, str, list[dict]]:
    """(status, detail, figures) of row `family` of the gate that `options` describe (`Gate.row_options`),
    run in a child process given `timeout` seconds."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    handle, progress = tempfile.mkstemp(prefix=f"dsa-gate-{family}-", suffix=".case")
    os.close(handle)
    child = context.Process(target=_child, args=(send, options, family, progress), daemon=True)
    try:
        child.start()
        send.close()
        if receive.poll(timeout):
            try:
                return receive.recv()
            except EOFError:
                child.join()
                return FAIL, f"the row's process died (exit code {child.exitcode}) on {_last_case(progress)}", []
        child.kill()
        child.join()
        return FAIL, f"hung after {timeout:g} s on {_last_case(progress)} (--row-timeout {timeout:g})", []
    finally:
        receive.close()
        Path(progress).unlink(missing_ok=True)


def _last_case(progress: str) -> str:
    text = Path(progress).read_text().strip()
    return text or "no case yet (the row had not started a call)"
