"""Planted (sgl-project/sglang#15429 and #27545's class): under static_extend_len it finds each token
row's request by dividing by the width read from extend_seq_lens[0], over every row of the token
buffers, as a kernel whose grid spans the capacity does. A width of 0 divides by zero: on the CPU
that raises, on a GPU it yields garbage owners."""

import torch

from tests.planted._token_rows import after_shipped


def _divided(mode_name, named, buffers, before, options):
    if mode_name != "draft-extend" or not options.get("static_extend_len"):
        return
    extend = named["extend_seq_lens"]
    width = extend[:1].to(torch.int64)
    rows = torch.arange(buffers.nsa_seqlens_expanded.shape[0], device=extend.device)
    owner = torch.div(rows, width, rounding_mode="floor")
    live = rows < extend.shape[0] * width
    kv = named["seq_lens"].to(torch.int64)
    if live.any():
        step = rows - owner * width
        lengths = kv[owner.clamp(0, kv.shape[0] - 1)] - width + 1 + step
        buffers.nsa_seqlens_expanded[live] = lengths[live].clamp(min=0).to(torch.int32)


fill_decode_metadata, fill_target_verify_metadata, fill_draft_extend_metadata = after_shipped(_divided)
