"""Fills every written page_table_1 row up to its row stride instead of its width: the cells past the
width belong to no view (row padding of the storage), so only the memory-outside-the-views law sees
them when the table has no spare columns. Models a column mask taken against the stride; the
columns past the request's row read as the masked load's `other=0`."""

from properties.mutants._eager import after_reference
from reference.buffers import whole_storage


def corrupt(*, extend_seq_lens, buffers, max_seqlen_k, **_) -> None:
    table = buffers.page_table_1
    total = int(extend_seq_lens.sum())
    if total == 0:
        return
    pitch = table.stride(0)
    rows = whole_storage(table).as_strided((total, pitch), (pitch, 1), table.storage_offset())
    rows[:, max_seqlen_k:] = 0


fill_draft_extend_metadata = after_reference(corrupt)
