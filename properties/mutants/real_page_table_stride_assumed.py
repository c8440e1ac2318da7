"""Uses the logical page count as real_page_table's row stride instead of its real stride.
Models a stride bug: assuming the padded graph buffer is contiguous.
"""

from properties.mutants._triton_defects import REAL_TABLE_STRIDE_ASSUMED, with_defect

fill_draft_extend_metadata = with_defect(REAL_TABLE_STRIDE_ASSUMED)
