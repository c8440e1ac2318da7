"""Uses max_seqlen_k as req_to_token's row stride instead of req_to_token.stride(0).
Models a stride bug: the pool is wider than the call's context (page_table_1, real_page_table).
"""

from properties.mutants._triton_defects import REQ_TO_TOKEN_STRIDE_ASSUMED, with_defect

fill_draft_extend_metadata = with_defect(REQ_TO_TOKEN_STRIDE_ASSUMED)
