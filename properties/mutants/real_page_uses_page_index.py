"""real_page_table reads column p instead of column p * page_size of req_to_token.
Models a real-page-table indexing bug (page index used as token column).
"""

from properties.mutants._triton_defects import REAL_TABLE_PAGE_AS_COLUMN, with_defect

fill_draft_extend_metadata = with_defect(REAL_TABLE_PAGE_AS_COLUMN)
