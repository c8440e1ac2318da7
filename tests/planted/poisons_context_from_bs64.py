"""Planted: the shipped kernel, until a call of 64 requests or more raises what CUDA raises for a
device-side assert, and every call after it in the process raises the same, as a lost CUDA context
does. The CPU tier's stand-in for a sticky fault: the suite must report the first bs >= 64 case,
never a bystander after it, and a fresh process must raise again on that case's reproducer."""

import kernel

_LOST = []


def fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options):
    if _LOST or seq_lens.shape[0] >= 64:
        _LOST.append(True)
        raise RuntimeError("CUDA error: device-side assert triggered\nCUDA kernel errors might be asynchronously reported")
    kernel.fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options)
