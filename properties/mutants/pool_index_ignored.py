"""Reads req_to_token row b instead of row req_pool_indices[b] (page_table_1, real_page_table).
Models an indexing bug: the pool indirection forgotten.
"""

from properties.mutants._triton_defects import POOL_INDEX_IGNORED, with_defect

fill_draft_extend_metadata = with_defect(POOL_INDEX_IGNORED)
