"""The contract, stated once per forward mode: the eager code that the kernel and every variant are
judged against (`reference.eager`), its second statement in plain lists (`reference.lists`), and the
forward modes themselves (`reference.modes`)."""

from reference.buffers import AXES, BUFFER_NAMES, MetadataBuffers
from reference.eager import (
    FILLS,
    compute_nsa_seqlens,
    expand_seqlens,
    expand_seqlens_into,
    fill_decode_metadata,
    fill_draft_extend_metadata,
    fill_target_verify_metadata,
    transform_table_1_to_real,
)
from reference.modes import DECODE, DEFAULT_FORWARD_MODE, DRAFT_EXTEND, FORWARD_MODES, TARGET_VERIFY, ForwardMode, forward_mode

__all__ = [
    "AXES",
    "BUFFER_NAMES",
    "DECODE",
    "DEFAULT_FORWARD_MODE",
    "DRAFT_EXTEND",
    "FILLS",
    "FORWARD_MODES",
    "ForwardMode",
    "MetadataBuffers",
    "TARGET_VERIFY",
    "compute_nsa_seqlens",
    "expand_seqlens",
    "expand_seqlens_into",
    "fill_decode_metadata",
    "fill_draft_extend_metadata",
    "fill_target_verify_metadata",
    "forward_mode",
    "transform_table_1_to_real",
]
