"""Planted: the shipped kernel, except that past a page size of 128 (where the strategies stopped
before the domain was stated) its real page table is written into a scratch copy and lost. Wrong only
at the top of a declared range: the suite must draw page sizes to the end of theirs to fail it."""

import dataclasses

import kernel


def fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, *, page_size, **options):
    if page_size > 128:
        buffers = dataclasses.replace(buffers, real_page_table=buffers.real_page_table.clone())
    kernel.fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, page_size=page_size, **options)
