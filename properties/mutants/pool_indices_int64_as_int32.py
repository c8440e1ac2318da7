"""Reads req_pool_indices through an int32 pointer: int64 indices are read as (low, high) word pairs.
Models an int64-only dtype bug (page_table_1, real_page_table).
"""

from properties.mutants._triton_defects import POOL_INDICES_AS_INT32, with_defect

fill_draft_extend_metadata = with_defect(POOL_INDICES_AS_INT32)
