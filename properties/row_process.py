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


class RowLost(Exception):
    """A row's process hung past its time or died before it sent a verdict; the message says which,
    and on what case."""


def run_row(target, args: tuple, family: str, timeout: float):
    """What `target(conn, progress, *args)` sends on `conn`, run in a spawned child process given
    `timeout` seconds; `target` (a module-level function, so that spawn can find it) writes the case
    it is on to the file `progress` before each call. Raises RowLost when no answer comes."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    handle, progress = tempfile.mkstemp(prefix=f"dsa-gate-{family}-", suffix=".case")
    os.close(handle)
    child = context.Process(target=target, args=(send, progress, *args), daemon=True)
    try:
        child.start()
        send.close()
        if receive.poll(timeout):
            try:
                return receive.recv()
            except EOFError:
                child.join()
                raise RowLost(f"the row's process died (exit code {child.exitcode}) on {_last_case(progress)}") from None
        child.kill()
        child.join()
        raise RowLost(f"hung after {timeout:g} s on {_last_case(progress)} (--row-timeout {timeout:g})")
    finally:
        receive.close()
        Path(progress).unlink(missing_ok=True)


def _last_case(progress: str) -> str:
    text = Path(progress).read_text().strip()
    return text or "no case yet (the row had not started a call)"
