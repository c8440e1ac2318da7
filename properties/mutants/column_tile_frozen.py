"""Column tile loop uses col_begin instead of the loop variable: columns >= COL_TILE never written.
Models a tile-loop bug that only shows when max_seqlen_k > COL_TILE (page_table_1).
"""

from properties.mutants._triton_defects import COLUMN_TILE_FROZEN, with_defect

fill_draft_extend_metadata = with_defect(COLUMN_TILE_FROZEN)
