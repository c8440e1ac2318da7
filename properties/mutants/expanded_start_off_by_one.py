"""Expanded lengths start at kv - qo instead of kv - qo + 1 (nsa_seqlens_expanded, nsa_cache, nsa_cu).
Models an off-by-one in the causal visible-length formula.
"""

from properties.mutants._triton_defects import EXPANDED_START_OFF_BY_ONE, with_defect

fill_draft_extend_metadata = with_defect(EXPANDED_START_OFF_BY_ONE)
