"""The contract, stated once: the eager code that the kernel and every variant are judged against."""

from reference.buffers import BUFFER_NAMES, DraftExtendMetadataBuffers
from reference.eager import (
    compute_nsa_seqlens,
    expand_seqlens,
    expand_seqlens_into,
    fill_draft_extend_metadata,
    transform_table_1_to_real,
)

__all__ = [
    "BUFFER_NAMES",
    "DraftExtendMetadataBuffers",
    "compute_nsa_seqlens",
    "expand_seqlens",
    "expand_seqlens_into",
    "fill_draft_extend_metadata",
    "transform_table_1_to_real",
]
