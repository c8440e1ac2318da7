"""Planted: the shipped kernel, but KPool's largest size, 16, pools by 8. Right at every other size,
and at 16 for every length whose remainder modulo 16 is below 8 or that stays under the top-k: a
declared member judged only where a generated case happens to land on it. The member example of
k = 16 (properties.edges.MEMBER_EXAMPLES) fails it on every tier."""

import kernel


def _pooled(fill):
    def pooled(*args, index_kpool=1, **options):
        fill(*args, index_kpool=8 if index_kpool == 16 else index_kpool, **options)

    pooled.supports_page_table_1_none = True
    pooled.supports_graph_resident = True
    return pooled


fill_decode_metadata = _pooled(kernel.fill_decode_metadata)
fill_target_verify_metadata = _pooled(kernel.fill_target_verify_metadata)
fill_draft_extend_metadata = _pooled(kernel.fill_draft_extend_metadata)
fill_draft_extend_metadata.supports_static_extend_len = True
