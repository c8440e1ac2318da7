"""Reads the request block from program_id(1) and the column slice from program_id(0).
Models transposed grid indexing (shows only when there is more than one request block).
"""

from properties.mutants._triton_defects import GRID_AXES_SWAPPED, with_defect

fill_draft_extend_metadata = with_defect(GRID_AXES_SWAPPED)
