"""The harness of the tables past 2^31 cells (properties.past_int32), on any machine: what its child
process's end says, and what a starved GPU says. The tables themselves run on the GPU tier
(tests/gpu/test_past_int32.py)."""

from __future__ import annotations

import subprocess

import pytest

from properties import past_int32

ADVICE = (
    "CUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be incorrect.\n"
    "For debugging consider passing CUDA_LAUNCH_BLOCKING=1\n"
    "Compile with `TORCH_USE_CUDA_DSA` to enable device-side assertions.\n"
)


def _child(monkeypatch, returncode: int, stdout: str = "", stderr: str = "") -> tuple[int, str]:
    monkeypatch.setattr(
        past_int32.subprocess, "run", lambda *args, **kwargs: subprocess.CompletedProcess(args, returncode, stdout, stderr)
    )
    return past_int32.in_child("tests/planted/store_offset_int32.py:fill_decode_metadata", "contract", "decode")


@pytest.mark.parametrize(
    ("returncode", "stdout", "stderr", "expected"),
    [
        (0, "gather and store past 2^31: every row right\n", "", (0, "gather and store past 2^31: every row right")),
        (1, "store past 2^31 (token rows 2,148..2,199 ...): AcceleratorError: CUDA error: an illegal memory access was encountered\n", "",
         (1, "store past 2^31 (token rows 2,148..2,199 ...): AcceleratorError: CUDA error: an illegal memory access was encountered")),
        (2, "", "needs 29.5 GiB of free GPU memory, 2.8 GiB free\n", (2, "needs 29.5 GiB of free GPU memory, 2.8 GiB free")),
        (1, "", "Traceback (most recent call last):\n  File \"x\", line 1\ntorch.AcceleratorError: CUDA error: out of memory\n" + ADVICE,
         (2, "the process running the cases ran out of GPU memory (torch.AcceleratorError: CUDA error: out of memory)")),
        (1, "", "Traceback (most recent call last):\ntorch.AcceleratorError: CUDA error: unspecified launch failure\n" + ADVICE,
         (1, "the process running the cases died (torch.AcceleratorError: CUDA error: unspecified launch failure)")),
        (-11, "", "", (1, "the process running the cases died (exit status -11)")),
    ],
    ids=["every row right", "a fault", "too little memory", "no context", "died on an error", "killed"],
)
def test_the_childs_end_is_said_in_its_own_words(monkeypatch, returncode, stdout, stderr, expected):
    """The verdict line where the child gave one; where it died, its error, never PyTorch's advice
    that follows a CUDA error; a GPU too full to make a context is a case not run."""
    assert _child(monkeypatch, returncode, stdout, stderr) == expected


def test_a_starved_gpu_is_a_case_not_run(monkeypatch):
    monkeypatch.setattr(past_int32.torch.cuda, "mem_get_info", lambda: (3 * 2**30, 80 * 2**30))
    with pytest.raises(past_int32.NotEnoughMemory, match=r"needs 12.0 GiB of free GPU memory, 3.0 GiB free"):
        past_int32.ensure_free(10 * 2**30)

    def no_context():
        raise RuntimeError("CUDA error: out of memory\n" + ADVICE)

    monkeypatch.setattr(past_int32.torch.cuda, "mem_get_info", no_context)
    with pytest.raises(past_int32.NotEnoughMemory, match="no CUDA context could be made: RuntimeError: CUDA error: out of memory$"):
        past_int32.ensure_free(1)
    # A test of a planted defect expects a RuntimeError of the defect's: a case not run must not pass for one.
    assert not issubclass(past_int32.NotEnoughMemory, (RuntimeError, AssertionError, ValueError))


def test_one_table_at_a_time_and_its_memory_given_back(monkeypatch, tmp_path):
    """`exclusive` holds the machine's lock file while a table runs, and empties the caching
    allocator after, so that a pytest worker keeps nothing of tens of GiB for its later tests."""
    import fcntl

    emptied = []
    monkeypatch.setattr(past_int32, "LOCK", tmp_path / "lock")
    monkeypatch.setattr(past_int32.torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(past_int32.torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(past_int32.torch.cuda, "empty_cache", lambda: emptied.append(1))
    with past_int32.exclusive():
        with open(tmp_path / "lock", "w") as other:
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    assert emptied == [1]


def test_rows_past_the_wrap_are_named_in_runs():
    """A verdict names the rows past 2^31 cells in a line a person reads: consecutive rows as one run."""
    said = past_int32.rows_past_wrap("decode", 2200, list(range(2100, 2200)), [10] * 2200)
    assert "pool rows 2,148..2,199 of req_to_token" in said
    assert "token rows 2,148..2,199 of the page tables" in said
    assert len(said) < 200
