"""Request mask `reqs <= bs` on cache_seqlens_int32: writes element bs (padding) with 0.
Models a bounds bug: off-by-one in the batch mask.
"""

from properties.mutants._triton_defects import CACHE_SEQLENS_ONE_PAST, with_defect

fill_draft_extend_metadata = with_defect(CACHE_SEQLENS_ONE_PAST)
