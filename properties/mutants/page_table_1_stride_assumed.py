"""Uses max_seqlen_k as page_table_1's row stride instead of page_table_1.stride(0).
Models a stride bug: assuming the padded graph buffer is contiguous.
"""

from properties.mutants._triton_defects import PAGE_TABLE_STRIDE_ASSUMED, with_defect

fill_draft_extend_metadata = with_defect(PAGE_TABLE_STRIDE_ASSUMED)
