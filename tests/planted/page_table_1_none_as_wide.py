"""Planted: given no page_table_1 (page_size > 1), a kernel that stores the wide table's rows through
the real table's pointer, as if it were the wide one: real_page_table then holds each row's first
token slots where it should hold the page of every page_size-th one. Right whenever the caller gives
page_table_1."""

import torch

import kernel
from reference.buffers import MetadataBuffers


def fill_decode_metadata(seq_lens, req_pool_indices, req_to_token, buffers, **options):
    if buffers.page_table_1 is not None:
        kernel.fill_decode_metadata(seq_lens, req_pool_indices, req_to_token, buffers, **options)
        return
    real = buffers.real_page_table
    # The wide rows, computed into scratch and stored over the real table's columns.
    wide = torch.empty((real.shape[0], options["max_seqlen_k"]), dtype=torch.int32, device=real.device)
    scratch = MetadataBuffers(**{**vars(buffers), "page_table_1": wide, "real_page_table": torch.empty_like(real)})
    kernel.fill_decode_metadata(seq_lens, req_pool_indices, req_to_token, scratch, **options)
    bs, pages = seq_lens.shape[0], min(real.shape[1], wide.shape[1], -(-options["max_seqlen_k"] // options["page_size"]))
    real[:bs, :pages].copy_(wide[:bs, :pages])


fill_decode_metadata.supports_page_table_1_none = True
