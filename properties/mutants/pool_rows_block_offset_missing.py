"""Loads req_pool_indices at arange(REQS) instead of first_req + arange(REQS): later blocks use block 0's pool rows.
Models a wrong-pool-row bug that only shows when bs > REQS.
"""

from properties.mutants._triton_defects import POOL_ROWS_BLOCK_OFFSET_MISSING, with_defect

fill_draft_extend_metadata = with_defect(POOL_ROWS_BLOCK_OFFSET_MISSING)
