"""Page count is floor(max_seqlen_k / page_size): the last partial page of real_page_table is dropped.
Models floor instead of ceil on a page count.
"""

from properties.mutants._triton_defects import REAL_TABLE_FLOOR_PAGES, with_defect

fill_draft_extend_metadata = with_defect(REAL_TABLE_FLOOR_PAGES)
