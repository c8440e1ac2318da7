"""Planted: SGLang's signature, right everywhere except on graph-bucket padding requests, whose
causal lengths it leaves below 1: unclamped (seq_len 1, width 4 gives -2, -1, 0, 1, as SGLang's
fused kernel wrote before its DSA fix) or clamped at 0. Both must fail values and the length laws."""

from tests.standins.sglang_like import fill_with_floor


def unclamped(**kwargs):
    fill_with_floor(**kwargs, floor=None)


def clamped_to_zero(**kwargs):
    fill_with_floor(**kwargs, floor=0)
