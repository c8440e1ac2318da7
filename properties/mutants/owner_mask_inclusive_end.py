"""Token ownership mask `local <= token_end`: a request's boundary token is owned by two requests.
Models a mask bug in the token -> request assignment (nsa buffers and page tables).
"""

from properties.mutants._triton_defects import OWNER_MASK_INCLUSIVE, with_defect

fill_draft_extend_metadata = with_defect(OWNER_MASK_INCLUSIVE)
