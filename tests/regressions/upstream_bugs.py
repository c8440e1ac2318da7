"""The planted defect of each upstream bug's class (properties.upstream): path/to/file.py, whose
fills are named by forward mode, or one SPEC with its convention. tests/test_upstream_bugs.py holds
each to failing its class's pinned case on the tier where that can show."""

from __future__ import annotations

from importlib.util import module_from_spec, spec_from_file_location

from properties.upstream import UPSTREAM_BUGS
from reference.modes import forward_mode

PLANTED: dict[str, tuple[str, str]] = {
    "int32_row_offsets": ("tests/planted/store_offset_int32.py", "contract"),
    "negative_padded_lengths": ("tests/planted/padding_lengths.py:unclamped", "sglang-fused-draft-extend"),
    "width_below_kv_at_the_limit": ("tests/planted/page_rows_past_width.py", "contract"),
    "stale_tail_after_live_prefix": ("tests/planted/page_rows_cached_by_pool_row.py", "contract"),
    "idle_rank_rows": ("tests/planted/idle_rank_rows_skipped.py", "contract"),
    "stale_cu_pad_rows": ("tests/planted/cu_pad_rows_stale.py", "contract"),
    "row_stride_and_views": ("tests/planted/req_to_token_rows_packed.py", "contract"),
    "draft_extend_and_verify_aliased": ("tests/planted/metadata_keyed_by_bs.py", "contract"),
    "static_against_variable_extend": ("tests/planted/static_width_from_first_request.py", "contract"),
}


def planted_specs(name: str) -> dict[str, str]:
    """Forward mode -> the spec of bug `name`'s planted defect, for the modes of its case that the
    planted file has a fill of."""
    bug = next(bug for bug in UPSTREAM_BUGS if bug.name == name)
    planted, _ = PLANTED[name]
    if not planted.endswith(".py"):
        return {mode: planted for mode in bug.modes}
    module_spec = spec_from_file_location("_planted", planted)
    module = module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return {mode: f"{planted}:{forward_mode(mode).fill_name}" for mode in bug.modes if hasattr(module, forward_mode(mode).fill_name)}
