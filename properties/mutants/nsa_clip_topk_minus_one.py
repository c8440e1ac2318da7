"""nsa_cache_seqlens_int32 clipped at nsa_index_topk - 1 instead of nsa_index_topk.
Models an off-by-one clipping bug.
"""

from properties.mutants._triton_defects import NSA_CLIP_TOPK_MINUS_ONE, with_defect

fill_draft_extend_metadata = with_defect(NSA_CLIP_TOPK_MINUS_ONE)
