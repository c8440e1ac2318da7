"""Planted: the shipped kernel's right values, computed on a private CUDA stream.

`forks_and_never_joins` waits for the caller's stream and never makes it wait back: the caller's next
kernel may read the buffers before they are written. `never_waits_for_the_caller` joins back but
starts without waiting: it may read inputs the caller has not written yet. Values compared after a
device-wide synchronize look right; the streams row must fail both, on every run.
"""

import torch

import kernel

_private: dict[torch.device, torch.cuda.Stream] = {}


def _stream(device) -> torch.cuda.Stream:
    return _private.setdefault(device, torch.cuda.Stream(device))


def forks_and_never_joins(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options):
    side = _stream(seq_lens.device)
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        kernel.fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options)


def never_waits_for_the_caller(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options):
    side = _stream(seq_lens.device)
    with torch.cuda.stream(side):
        kernel.fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options)
    torch.cuda.current_stream().wait_stream(side)
