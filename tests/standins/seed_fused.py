"""Stand-ins with the seed's full-fusion signature, `fill_draft_extend_metadata_fused(extend_seq_lens,
seq_lens, cache_seqlens, cumulate_cache_seqlens, page_indices, nsa_index_topk, metadata)`.

`fill_draft_extend_metadata_fused` does what the signature asks. `..._rows_at_width_stride` lays the
page rows out with the row stride of their width, as a copy kernel indexing `token * max_seqlen_k`
does, so any page_table_1 whose rows are wider than max_seqlen_k gets them in the wrong places."""

from kernel import expand_seqlens_into
from reference.buffers import whole_storage


def fill_draft_extend_metadata_fused(extend_seq_lens, seq_lens, cache_seqlens, cumulate_cache_seqlens, page_indices, nsa_index_topk, metadata):
    expand_seqlens_into(extend_seq_lens, seq_lens, nsa_index_topk, metadata.nsa_seqlens_expanded, metadata.nsa_cache_seqlens_int32)
    metadata.cache_seqlens_int32.copy_(cache_seqlens)
    metadata.cu_seqlens_k[1:].copy_(cumulate_cache_seqlens)
    metadata.page_table_1[: page_indices.shape[0], : page_indices.shape[1]].copy_(page_indices)


def fill_draft_extend_metadata_fused_rows_at_width_stride(
    extend_seq_lens, seq_lens, cache_seqlens, cumulate_cache_seqlens, page_indices, nsa_index_topk, metadata
):
    expand_seqlens_into(extend_seq_lens, seq_lens, nsa_index_topk, metadata.nsa_seqlens_expanded, metadata.nsa_cache_seqlens_int32)
    metadata.cache_seqlens_int32.copy_(cache_seqlens)
    metadata.cu_seqlens_k[1:].copy_(cumulate_cache_seqlens)
    table = metadata.page_table_1
    rows, width = page_indices.shape
    whole_storage(table).as_strided((rows, width), (width, 1), table.storage_offset()).copy_(page_indices)
