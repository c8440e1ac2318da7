"""Tables past 2^31 cells, the pinned cases of the GPU tier, in every forward mode.

A 1M-token deployment has a req_to_token of [pool rows, ~1M]: past 2,147 rows the gather offset
row * stride passes 2^31. A page_table_1 of 2,148 token rows x 1M columns does the same for the
stores. A kernel that forms either offset in int32 (or drops such rows) passes every smaller case.
Each case checks every written row against the row of req_to_token it must copy (page_table_1, and
the real table at page 64) and the per-request lengths, over each row's live prefix.

`python -m properties past-int32 --variant SPEC --forward-mode MODE` runs both cases in a process of
its own, as the gate and the mutation hunt do (`in_child`, through `python -m properties.past_int32`,
which takes the same options, `parents`): an offset that wraps reads or writes outside its
allocation, and the CUDA context that raises it is lost to every later call.
"""

from __future__ import annotations

import contextlib
import fcntl
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from properties.cases import ReplayCase
from properties.failures import first_line
from properties.host import on_host
from reference.buffers import MetadataBuffers
from reference.modes import DECODE, DRAFT_EXTEND, TARGET_VERIFY, forward_mode

COLUMNS = 1_000_003  # SGLang's large-shape test's width
PAGE = 64
WRAP = 2**31
TOKENS_PER_REQUEST = {DECODE.name: 1, TARGET_VERIFY.name: 4, DRAFT_EXTEND.name: 4}


class PastInt32Wrong(AssertionError):
    pass


class NotEnoughMemory(Exception):
    """The GPU has too little free memory for a case: a case not run, never a verdict on the variant
    (not a RuntimeError, which a test of a planted defect may take for the defect's failure)."""


LOCK = Path(tempfile.gettempdir()) / "dsa-past-int32.lock"


@contextlib.contextmanager
def exclusive():
    """This machine's one table past 2^31 cells at a time, its memory given back to the device after.
    Tables of tens of GiB side by side on one GPU (a gate per mode, pytest's workers) starve one
    another, and a process's caching allocator keeps what a case took from every later test of that
    process (seen on an H100: one pytest worker held 59 GiB, and the next table ran out of memory)."""
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if torch.cuda.is_available() and torch.cuda.is_initialized():
                torch.cuda.empty_cache()


def ensure_free(need: int) -> None:
    """NotEnoughMemory, saying how much is missing, where the GPU has less than `need` bytes free
    (with a fifth to spare); a GPU so full that no CUDA context can be made is said so too."""
    try:
        free, _ = torch.cuda.mem_get_info()
    except RuntimeError as error:  # torch.AcceleratorError: the context itself could not be made
        raise NotEnoughMemory(f"no CUDA context could be made: {first_line(error)}") from error
    if free < need * 1.2:
        raise NotEnoughMemory(f"needs {need * 1.2 / 2**30:.1f} GiB of free GPU memory, {free / 2**30:.1f} GiB free")


def gather_case(mode_name: str) -> tuple[int, list[int], list[int]]:
    """(pool rows, pool rows of the live requests, their seq_lens): live requests on rows whose
    first cell lies past 2^31 of a 2,200 x 1,000,003 req_to_token, and on row 0."""
    rows = 2_200
    return rows, [rows - 1, 2_150, 0, 2_148], [999_000, 700_001, 1_000, COLUMNS - TOKENS_PER_REQUEST[mode_name]]


def store_case(mode_name: str) -> tuple[int, list[int], list[int]]:
    """2,200 token rows of 1,000,003 columns: the last requests' rows start past 2^31; those are
    long, the ones before short, to keep the case quick."""
    per = TOKENS_PER_REQUEST[mode_name]
    bs = 2_200 // per
    first_past = WRAP // (per * COLUMNS)
    return bs, list(range(bs))[::-1], [COLUMNS - per if b >= first_past - 2 else 64 + b for b in range(bs)]


def bytes_needed(mode_name: str) -> int:
    per = TOKENS_PER_REQUEST[mode_name]
    rows, _, seq_lens = gather_case(mode_name)
    bs, _, _ = store_case(mode_name)
    return max(case_bytes(rows, len(seq_lens), per), 3 * bs * per * COLUMNS * 4)


def _pool(rows: int, live_rows: list[int], columns: int = COLUMNS) -> torch.Tensor:
    """A [rows, columns] req_to_token whose live rows hold slots (the others are never read)."""
    req_to_token = torch.empty((rows, columns), dtype=torch.int32, device="cuda")
    for row in set(live_rows):
        req_to_token[row].copy_(torch.randperm(columns, device="cuda", dtype=torch.int32) + row % 7)
    return req_to_token


def host_values(
    mode_name: str, rows: int, pool_rows: list[int], seq_lens: list[int], *, columns: int = COLUMNS, per: int | None = None
) -> ReplayCase:
    """The case as the engine holds it on the host (bs, the total, the longest extension, next_n):
    what a calling convention reads during the call (`properties.host.on_host`), so that a variant
    of any convention is called here exactly as everywhere else."""
    per = per or TOKENS_PER_REQUEST[mode_name]
    return ReplayCase(
        forward_mode=mode_name, next_n=per if mode_name == TARGET_VERIFY.name else 1,
        seq_lens=tuple(seq_lens), extend_seq_lens=(per,) * len(seq_lens), req_pool_indices=tuple(pool_rows),
        pool_size=rows, context_len=columns, nsa_index_topk=2048, page_size=PAGE, max_seqlen_k=columns,
    )


def rows_past_wrap(mode_name: str, rows: int, pool_rows: list[int], seq_lens: list[int], *, columns: int = COLUMNS) -> str:
    """Which rows of the case have offsets past 2^31: the pool rows it gathers from and the token rows
    it stores, as a verdict names them."""
    per = TOKENS_PER_REQUEST[mode_name]
    gathered = sorted(row for row in pool_rows if row * columns >= WRAP)
    stored = [t for t in range(len(seq_lens) * per) if t * columns >= WRAP]
    parts = []
    if gathered:
        parts.append(f"pool rows {_spans(gathered)} of req_to_token start past 2^31 cells")
    if stored:
        parts.append(f"token rows {stored[0]:,}..{stored[-1]:,} of the page tables start past 2^31 cells")
    return "; ".join(parts)


def _spans(rows: list[int]) -> str:
    """Sorted rows as a person reads them: each run of consecutive rows as `first..last`."""
    runs: list[list[int]] = []
    for row in rows:
        if runs and row == runs[-1][1] + 1:
            runs[-1][1] = row
        else:
            runs.append([row, row])
    return ", ".join(f"{a:,}" if a == b else f"{a:,}..{b:,}" for a, b in runs)


def case_bytes(rows: int, bs: int, per: int, columns: int = COLUMNS) -> int:
    """What a case allocates: req_to_token, and the page tables of its token rows."""
    return rows * columns * 4 + 2 * bs * per * columns * 4


def run_case(
    fill, mode_name: str, rows: int, pool_rows: list[int], seq_lens: list[int], *, columns: int = COLUMNS, per: int | None = None
) -> None:
    """Call `fill` (the contract's signature) on the case (`columns` wide, `per` tokens a request),
    with the host values its convention reads, one such case on this machine at a time
    (`exclusive`); PastInt32Wrong names the first wrong row, NotEnoughMemory says what is missing."""
    with exclusive():
        ensure_free(case_bytes(rows, len(seq_lens), per or TOKENS_PER_REQUEST[mode_name], columns))
        _run_case(fill, mode_name, rows, pool_rows, seq_lens, columns=columns, per=per)


def _run_case(fill, mode_name: str, rows: int, pool_rows: list[int], seq_lens: list[int], *, columns: int, per: int | None) -> None:
    mode = forward_mode(mode_name)
    per = per or TOKENS_PER_REQUEST[mode_name]
    host = host_values(mode_name, rows, pool_rows, seq_lens, columns=columns, per=per)
    next_n = host.next_n
    kv_lens = list(host.kv_lens)
    req_to_token = _pool(rows, pool_rows, columns)
    bs = len(seq_lens)
    buffers = MetadataBuffers.allocate(
        max_bs=bs, max_total_tokens=bs * per, max_seqlen_k=columns, page_size=PAGE, device="cuda",
        names=tuple(name for name in mode.writes if name != "paged_mqa_ctx_lens_2d"), next_n=next_n,
    )
    i64 = dict(dtype=torch.int64, device="cuda")
    named = {
        "seq_lens": torch.tensor(seq_lens, **i64),
        "extend_seq_lens": torch.full((bs,), per, **i64),
        "req_pool_indices": torch.tensor(pool_rows, **i64),
        "req_to_token": req_to_token,
    }
    options = mode.call_options(nsa_index_topk=2048, page_size=PAGE, max_seqlen_k=columns, next_n=next_n)
    with on_host(host):
        fill(*(named[name] for name in mode.inputs), buffers, **options)
    torch.cuda.synchronize()
    if buffers.cache_seqlens_int32[:bs].tolist() != kv_lens:
        raise PastInt32Wrong("cache_seqlens_int32 differs from the kv lengths")
    for b, (row, kv) in enumerate(zip(pool_rows, kv_lens)):
        want = req_to_token[row, :kv]
        pages = torch.div(req_to_token[row, :kv:PAGE], PAGE, rounding_mode="floor")
        for token in range(b * per, (b + 1) * per):
            where = f"token {token} (request {b}, pool row {row}, first cell {row * columns:,}; token row's first cell {token * columns:,})"
            if not torch.equal(buffers.page_table_1[token, :kv], want):
                raise PastInt32Wrong(f"page_table_1 row of {where} is not its request's row of req_to_token")
            if not torch.equal(buffers.real_page_table[token, : pages.shape[0]], pages):
                raise PastInt32Wrong(f"real_page_table row of {where} is not its request's pages")


def in_child(spec: str, convention: str, mode_name: str) -> tuple[int, str]:
    """(exit status, last line said) of `check` on the variant, run in a process of its own: 0 every
    row right, 1 a row wrong or a fault, 2 not run (no GPU, too little free memory). `check` takes
    the machine's lock: gates run side by side on one GPU would otherwise starve each other of the
    memory these tables need, and say "not run" of a variant that is wrong. A child that dies (its
    CUDA context could not even be made) is named by its error, not by PyTorch's advice after it."""
    result = subprocess.run(
        [sys.executable, "-m", "properties.past_int32", "--variant", spec, "--convention", convention, "--forward-mode", mode_name],
        capture_output=True, text=True,
    )
    said = result.stdout.strip().splitlines()
    if result.returncode in (0, 1) and said:
        return result.returncode, said[-1]  # the verdict is stdout's last line
    if result.returncode == 2:
        why = result.stderr.strip().splitlines()  # a run that could not start says why on stderr
        return 2, why[-1] if why else "exit status 2"
    died = crash_words(result.stderr, result.returncode)
    if "out of memory" in died:
        return 2, f"the process running the cases ran out of GPU memory ({died})"
    return 1, f"the process running the cases died ({died})"


def crash_words(stderr: str, returncode: int) -> str:
    """What a dead child said of its death: the traceback's last `Type: words` line (PyTorch ends a
    CUDA error's words with advice, never with the error), else its exit status."""
    raised = [line.strip() for line in stderr.splitlines() if re.match(r"^[\w.]+(Error|Exception|Interrupt)\b.*:", line.strip())]
    return raised[-1][:300] if raised else f"exit status {returncode}"


def check(spec: str, convention: str, mode_name: str) -> int:
    """Both cases on the variant, one such run on this machine at a time (`exclusive`), saying the
    verdict on stdout's last line: 0 every row right, 1 a row wrong or a fault, 2 not run (said on
    stderr)."""
    if not torch.cuda.is_available():
        print("needs a CUDA device", file=sys.stderr)
        return 2
    with exclusive():
        return _check(spec, convention, mode_name)


def _check(spec: str, convention: str, mode_name: str) -> int:
    from properties.harness import load_variant

    try:
        ensure_free(bytes_needed(mode_name))
    except NotEnoughMemory as missing:
        print(missing, file=sys.stderr)
        return 2
    fill = load_variant(spec, convention, forward_mode=mode_name).fill
    for name, case in (("gather past 2^31", gather_case), ("store past 2^31", store_case)):
        try:
            _run_case(fill, mode_name, *case(mode_name), columns=COLUMNS, per=None)
        except PastInt32Wrong as wrong:
            print(f"{name}: {wrong}")
            return 1
        except Exception as error:  # a wrapped offset faults: the verdict names the rows whose offsets wrap
            if isinstance(error, torch.OutOfMemoryError) or "CUDA error: out of memory" in str(error):
                # Another process took the memory after the check: the case did not run.
                print(f"{name}: not run, the GPU ran out of memory: {first_line(error)}", file=sys.stderr)
                return 2
            print(f"{name} ({rows_past_wrap(mode_name, *case(mode_name))}): {first_line(error)}")
            return 1
    print("gather and store past 2^31: every row right")
    return 0


def parents() -> list:
    """The options of the past-int32 command and of its child process."""
    from properties.options import convention_parent, forward_mode_parent, variant_parent

    return [variant_parent(), convention_parent(), forward_mode_parent()]


if __name__ == "__main__":
    # The child `in_child` starts: the cases alone, without the command line's other commands.
    from properties.options import Parser, named

    args = Parser(prog="python -m properties.past_int32", parents=parents()).parse_args()
    spec_mode = named(args)
    sys.exit(2 if spec_mode is None else check(spec_mode[0], args.convention, spec_mode[1]))
