"""Launches one request block: only the first REQS requests (and their tokens) are written.
Models a batch-limit bug: grid sized for a small batch (shows only when bs > REQS).
"""

from properties.mutants._triton_defects import SINGLE_REQUEST_BLOCK, with_defect

fill_draft_extend_metadata = with_defect(SINGLE_REQUEST_BLOCK)
