"""Column mask `cols <= col_end`: page_table_1 gets one column past max_seqlen_k (padding).
Models a bounds bug: off-by-one in a tile mask.
"""

from properties.mutants._triton_defects import COLUMN_ONE_PAST, with_defect

fill_draft_extend_metadata = with_defect(COLUMN_ONE_PAST)
