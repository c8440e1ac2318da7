"""Planted: SGLang's signature, right everywhere except on graph-bucket padding requests, whose
causal lengths it keeps at another floor than the engine profile's. Unclamped (seq_len 1, width 4
gives -2, -1, 0, 1, as SGLang's fused kernel wrote before sgl-project/sglang#30378) is wrong under
every profile. Clamped to 0 is SGLang main's rule: right under sglang-dsa, wrong under sglang-dsv4
and full-width, whose floor is 1. Clamped to 1 is DeepSeek-V4's rule: wrong under sglang-dsa. Each
wrong one must fail values and the length laws under the profile it breaks."""

import inspect

from tests.standins.sglang_like import fill_with_floor, fused_dsa_draft_extend_metadata


def _with_floor(floor):
    def fill(**kwargs):
        fill_with_floor(**kwargs, floor=floor)

    # SGLang's signature, keyword by keyword: **kwargs alone would declare every keyword the convention
    # offers, index_kpool among them, which this stand-in of a kernel before KPool does not take.
    fill.__signature__ = inspect.signature(fused_dsa_draft_extend_metadata)
    return fill


unclamped = _with_floor(None)
clamped_to_zero = _with_floor(0)
clamped_to_one = _with_floor(1)
