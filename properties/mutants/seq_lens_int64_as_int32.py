"""Reads seq_lens through an int32 pointer: int64 seq_lens are read as (low, high) word pairs.
Models an int64-only dtype bug (every buffer derived from seq_lens).
"""

from properties.mutants._triton_defects import SEQ_LENS_AS_INT32, with_defect

fill_draft_extend_metadata = with_defect(SEQ_LENS_AS_INT32)
