"""Planted: the live-prefix contract one column short, the classic off-by-one of a `col < kv - 1`
mask: each page row's last live column (column kv - 1, and the page that starts there) keeps its old
contents. Every profile must reject it: that column is live, whatever the tail rule."""

from tests.standins.live_prefix import live_prefix_fill


def fill_draft_extend_metadata(seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, **options):
    live_prefix_fill("draft-extend", (seq_lens, extend_seq_lens, req_pool_indices, req_to_token), buffers, options, live_shift=-1)


def fill_decode_metadata(seq_lens, req_pool_indices, req_to_token, buffers, **options):
    live_prefix_fill("decode", (seq_lens, req_pool_indices, req_to_token), buffers, options, live_shift=-1)
