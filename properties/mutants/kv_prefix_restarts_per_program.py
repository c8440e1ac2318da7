"""cu_seqlens_k prefix sum restarts at every request block (kv of earlier programs not added).
Models a prefix-sum bug across programs (shows only when bs > REQS).
"""

from properties.mutants._triton_defects import KV_PREFIX_RESTARTS, with_defect

fill_draft_extend_metadata = with_defect(KV_PREFIX_RESTARTS)
