"""Evaluates the closed-form clipped prefix n*(n+1)//2 in int32: overflows once n > 46340.
Models an integer-width bug in nsa_cu_seqlens_k (long contexts with topk > 46340 only).
"""

from properties.mutants._triton_defects import CLIPPED_PREFIX_INT32, with_defect

fill_draft_extend_metadata = with_defect(CLIPPED_PREFIX_INT32)
