"""Token-tile loop runs to block_tokens - TOKEN_TILE + 1: the last partial tile of tokens is dropped.
Models a block-limit bug: loop bound that only covers full tiles.
"""

from properties.mutants._triton_defects import TOKEN_TILE_DROPS_PARTIAL, with_defect

fill_draft_extend_metadata = with_defect(TOKEN_TILE_DROPS_PARTIAL)
