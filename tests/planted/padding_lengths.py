"""Planted: SGLang's signature, right everywhere except on graph-bucket padding requests, whose
causal lengths it keeps at another floor than the engine profile's. Unclamped (seq_len 1, width 4
gives -2, -1, 0, 1, as SGLang's fused kernel wrote before sgl-project/sglang#30378) is wrong under
every profile. Clamped to 0 is SGLang main's rule: right under sglang-dsa, wrong under sglang-dsv4
and full-width, whose floor is 1. Clamped to 1 is DeepSeek-V4's rule: wrong under sglang-dsa. Each
wrong one must fail values and the length laws under the profile it breaks."""

from tests.standins.sglang_like import fill_with_floor


def unclamped(**kwargs):
    fill_with_floor(**kwargs, floor=None)


def clamped_to_zero(**kwargs):
    fill_with_floor(**kwargs, floor=0)


def clamped_to_one(**kwargs):
    fill_with_floor(**kwargs, floor=1)
