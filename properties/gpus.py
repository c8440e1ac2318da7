"""Which GPU each worker of a sharded run gets: an entry of the caller's own GPUs.

Both `python -m properties campaign --workers N` and `pytest -n N` give worker k the k-th entry (mod
their number) of the GPUs the caller may use, so `CUDA_VISIBLE_DEVICES=2,3` keeps the run on GPUs
2 and 3. Nothing here imports torch: the pytest workers are pinned before CUDA is initialised, and
CUDA reads CUDA_VISIBLE_DEVICES only once, when it is.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import MutableMapping, Sequence
from typing import Callable

# What the pinned pytest workers keep of the runner's own GPUs, so that a test can still shard
# over all of them (tests/test_triage_tools.py).
RUNNER_GPUS = "RUNNER_CUDA_VISIBLE_DEVICES"

# CUDA reads its list up to the first entry that is neither an ordinal nor a GPU or MIG UUID.
_ENTRY = re.compile(r"\d+|(GPU|MIG)-[0-9A-Za-z/-]+")


def installed_gpus() -> int:
    """The GPUs of this machine, counted by `nvidia-smi -L` (which does not initialise CUDA in
    this process); 0 where there is no NVIDIA driver."""
    try:
        listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    if listed.returncode:
        return 0
    return sum(line.startswith("GPU ") for line in listed.stdout.splitlines())


def visible_gpus(listed: str | None, installed: Callable[[], int] = installed_gpus) -> list[str]:
    """The caller's GPUs as CUDA_VISIBLE_DEVICES entries: its own list (`listed`) when set, else
    0 .. installed()-1."""
    if listed is None:
        return [str(ordinal) for ordinal in range(installed())]
    gpus = []
    for entry in listed.split(","):
        if not _ENTRY.fullmatch(entry.strip()):
            break
        gpus.append(entry.strip())
    return gpus


def worker_gpu(gpus: Sequence[str], index: int) -> str:
    """The CUDA_VISIBLE_DEVICES of worker `index`: so k GPUs take k workers, then wrap around."""
    return gpus[index % len(gpus)]


def pin_xdist_worker(environ: MutableMapping[str, str] = os.environ, installed: Callable[[], int] = installed_gpus) -> None:
    """In a pytest-xdist worker (PYTEST_XDIST_WORKER = gw0, gw1, ...) on a machine with GPUs, make
    its CUDA_VISIBLE_DEVICES one of the caller's GPUs; elsewhere leave `environ` alone."""
    worker = environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return
    gpus = visible_gpus(environ.get("CUDA_VISIBLE_DEVICES"), installed)
    if gpus:
        environ[RUNNER_GPUS] = ",".join(gpus)
        environ["CUDA_VISIBLE_DEVICES"] = worker_gpu(gpus, int(worker.removeprefix("gw")))
