"""real_page_table uses truncating `//` instead of an arithmetic shift: negative slots round toward zero.
Models C-style integer division where floor division is required.
"""

from properties.mutants._triton_defects import REAL_TABLE_TRUNC_DIV, with_defect

fill_draft_extend_metadata = with_defect(REAL_TABLE_TRUNC_DIV)
