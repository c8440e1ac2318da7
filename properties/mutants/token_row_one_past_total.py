"""Token mask `local <= block_tokens`: every token-indexed buffer gets row/element `total` (padding).
Models a bounds bug: off-by-one in a tile mask on the token axis.
"""

from properties.mutants._triton_defects import TOKEN_ROW_ONE_PAST, with_defect

fill_draft_extend_metadata = with_defect(TOKEN_ROW_ONE_PAST)
