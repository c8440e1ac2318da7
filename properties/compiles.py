"""How many times a variant makes Triton compile as batch size, context length and token total vary.

A kernel that specialises on a per-step value (a `tl.constexpr` batch size, a `max_seqlen_k` turned
constexpr) compiles again whenever that value changes: in serving that is seconds of compilation
on the replay path, once per batch size the scheduler happens to form. Counted from Triton's own
in-process kernel caches (every JIT function alive, before and after each call), so it sees any
variant's kernels, not only the shipped one's.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field

import torch

from properties.cases import ReplayCase
from properties.harness import Contract, on_host
from reference.modes import DEFAULT_FORWARD_MODE, DRAFT_EXTEND, MAX_NEXT_N, TARGET_VERIFY

LIMIT = 4  # compilations per combination of input dtypes
MAX_BS = 4096
CONTEXT = 96
MAX_SEQLEN_K_SPREAD = (1, 2, 3, 5, 8, 16, 17, 100, 1000, 4096, 8192, 65_536, 163_840)
DTYPE_COMBINATIONS = ("int32", "int64")


def jit_functions() -> list | None:
    """Every Triton JIT function alive in this process, or None where this Triton keeps no
    per-function kernel caches to count (a count that cannot be taken is never reported as 0)."""
    from triton.runtime.jit import JITFunction

    found = [obj for obj in gc.get_objects() if isinstance(obj, JITFunction)]
    return None if any(getattr(f, "device_caches", None) is None for f in found) else found


def compiled_kernels(functions: list) -> int:
    """Kernels compiled so far by `functions`, over every device."""
    return sum(len(entry[0]) for f in functions for entry in f.device_caches.values())


@dataclass
class CompileCount:
    """Compilations per dtype combination and per swept dimension; `stopped` names the first
    combination that went past the limit (the sweep stops there: a per-batch-size kernel would
    otherwise compile 4096 times)."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    stopped: str = ""

    def total(self, dtype: str) -> int:
        return sum(self.counts.get(dtype, {}).values())

    @property
    def passed(self) -> bool:
        return all(self.total(dtype) <= LIMIT for dtype in self.counts)

    def describe(self) -> str:
        parts = []
        for dtype, phases in self.counts.items():
            by_phase = ", ".join(f"{phase} {n}" for phase, n in phases.items())
            parts.append(f"{dtype}: {self.total(dtype)} ({by_phase})")
        text = "; ".join(parts) + f"; limit {LIMIT} per dtype combination"
        return text + (f"; {self.stopped}" if self.stopped else "")


def _case(seq_lens, extend_seq_lens, dtype: str, max_seqlen_k: int, spare_tokens: int = 0, *, mode_name: str, next_n: int = 1) -> ReplayCase:
    bs = len(seq_lens)
    return ReplayCase(
        forward_mode=mode_name,
        next_n=next_n,
        seq_lens=tuple(seq_lens),
        extend_seq_lens=tuple(extend_seq_lens),
        req_pool_indices=tuple(range(bs)),
        pool_size=bs,
        context_len=max_seqlen_k,
        nsa_index_topk=32,
        page_size=64,
        max_seqlen_k=max_seqlen_k,
        seq_lens_dtype=dtype,
        extend_seq_lens_dtype=dtype,
        req_pool_indices_dtype=dtype,
        spare_tokens=spare_tokens,
        guard=0,
    )


def swept_batch_sizes() -> list[int]:
    """Every batch size to 64, then both sides of every power of two and a few between, to MAX_BS:
    a kernel that compiles per batch size shows by bs 5, one that buckets batch sizes (by power of
    two, by divisibility by 16) at its buckets' edges, and a variant whose calls cost O(bs) on the
    host, as an eager one's do, is not called 4096 times."""
    sizes = set(range(1, 65))
    power = 64
    while power <= MAX_BS:
        sizes |= {power - 1, power, power + 1, power + power // 2}
        power *= 2
    return sorted(bs for bs in sizes if bs <= MAX_BS)


def _sweeps(dtype: str, mode_name: str):
    """(dimension, the case its buffers are allocated for, the steps), each step a case whose
    tensors fit in that allocation's. Target-verify sweeps next_n 1..MAX_NEXT_N where draft-extend sweeps its
    token total; decode's tokens are its requests."""
    tv = mode_name == TARGET_VERIFY.name
    # Target-verify's kv lengths are seq_lens + next_n: its columns leave room for the longest draft.
    room = MAX_NEXT_N if tv else 0
    seq = [2 + b % (CONTEXT - 1 - room) for b in range(MAX_BS)]
    ext = [b % 3 for b in range(MAX_BS)]
    largest = _case(seq, ext, dtype, CONTEXT, mode_name=mode_name, next_n=2)
    yield "batch size", largest, (largest.with_changes(seq_lens=largest.seq_lens[:bs], extend_seq_lens=largest.extend_seq_lens[:bs],
                                                       req_pool_indices=largest.req_pool_indices[:bs]) for bs in swept_batch_sizes())
    widest = _case([MAX_SEQLEN_K_SPREAD[-1] - room] * 8, [1] * 8, dtype, MAX_SEQLEN_K_SPREAD[-1], mode_name=mode_name)
    yield "max_seqlen_k", widest, (widest.with_changes(seq_lens=(max(k - room, 0),) * 8, max_seqlen_k=k) for k in MAX_SEQLEN_K_SPREAD)
    if tv:
        deepest = _case([CONTEXT - room] * 64, [1] * 64, dtype, CONTEXT, mode_name=mode_name, next_n=MAX_NEXT_N)
        yield "next_n", deepest, (deepest.with_changes(next_n=n) for n in range(1, MAX_NEXT_N + 1))
    elif mode_name == DRAFT_EXTEND.name:
        most = _case([CONTEXT] * 64, [8] * 64, dtype, CONTEXT, mode_name=mode_name)
        yield "token total", most, (most.with_changes(extend_seq_lens=tuple((b * e) % 9 for b in range(64))) for e in range(9))


class SweepStepRaised(RuntimeError):
    """The variant raised on one step of the sweep; the step is the message, the error the cause."""


def _step_inputs(inputs: tuple[torch.Tensor, ...], step: ReplayCase) -> tuple[torch.Tensor, ...]:
    """The step's per-request values written into the front of the allocation's tensors, as a
    serving engine rewrites its persistent ones: the device then holds what the step's host values
    (its total, its longest extension) say, which a convention that takes them from the host needs."""
    out = []
    for name, tensor in step.named_inputs(inputs).items():
        if name != "req_to_token":
            tensor = tensor[: step.bs]
            tensor.copy_(torch.tensor(getattr(step, name), dtype=tensor.dtype))
        out.append(tensor)
    return tuple(out)


def count_compiles(fill: Contract, device: torch.device, mode_name: str = DEFAULT_FORWARD_MODE) -> CompileCount | None:
    """Calls `fill` (of forward mode `mode_name`) over bs 1..4096 (`swept_batch_sizes`),
    max_seqlen_k 1..163,840 and token totals 0..512 (target-verify: next_n 1..MAX_NEXT_N), in each dtype
    combination, counting Triton compilations; None where they cannot be counted."""
    functions = jit_functions()
    if functions is None:
        return None
    result = CompileCount()
    for dtype in DTYPE_COMBINATIONS:
        result.counts[dtype] = {}
        for dimension, allocation, steps in _sweeps(dtype, mode_name):
            inputs = allocation.inputs(device)
            buffers = allocation.buffers(device)
            start = compiled_kernels(functions)
            for index, step in enumerate(steps):
                view = _step_inputs(inputs, step)
                try:
                    with on_host(step):
                        fill(*view, buffers, **step.options())
                except Exception as error:
                    raise SweepStepRaised(f"at {dimension} {_value(dimension, step)} ({dtype})") from error
                if index == 0:
                    # A variant may define its kernels on first use: count those too.
                    functions = jit_functions() or functions
                compiled = compiled_kernels(functions) - start
                result.counts[dtype][dimension] = compiled
                if result.total(dtype) > LIMIT:
                    result.stopped = f"stopped at {dimension} {_value(dimension, step)} ({dtype}): it compiles anew as {dimension} changes"
                    torch.cuda.synchronize()
                    return result
            torch.cuda.synchronize()
    return result


def _value(dimension: str, step: ReplayCase) -> int:
    return {"batch size": step.bs, "max_seqlen_k": step.max_seqlen_k, "token total": step.total_tokens, "next_n": step.next_n}[dimension]
