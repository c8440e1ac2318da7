"""Planted: the live-prefix contract, but every tail cell (a page-table cell at or past its row's kv
length) is written with a wrong value, neither its old contents nor what the full-width rule puts
there: a kernel whose last column block stores a neighbouring row's slots past the live prefix. Every
profile must reject it, and the report must say "tail"."""

from tests.standins.live_prefix import live_prefix_fill


def fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options):
    live_prefix_fill(
        "draft-extend", (seq_lens, extend_seq_lens, req_pool_indices, req_to_token), buffers, options,
        tail=lambda full_width: full_width ^ 0x40000000,
    )
