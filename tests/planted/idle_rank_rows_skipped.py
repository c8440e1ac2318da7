"""Planted (sgl-project/sglang#34455's class): a rank whose every request is padding (an idle
data-parallel rank padded to the graph's batch size) is taken for an empty batch, and nothing is
written: its token rows keep whatever they held, where the attention backend reads them."""

from tests.planted._token_rows import after_shipped


def _idle_is_empty(mode_name, named, buffers, before, options):
    if named["seq_lens"].numel() and int(named["seq_lens"].max()) == 0:
        for name, tensor in buffers.named().items():
            tensor.copy_(getattr(before, name))


fill_decode_metadata, fill_target_verify_metadata, fill_draft_extend_metadata = after_shipped(_idle_is_empty)
