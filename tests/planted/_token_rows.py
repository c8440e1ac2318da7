"""What the int32-offset planted variants share: the shipped fill of a forward mode called with its
contract's arguments, and each request's token rows, which they then copy their own way."""

from __future__ import annotations

import kernel
from reference.modes import ForwardMode, forward_mode


def shipped_fill(mode: ForwardMode):
    return getattr(kernel, mode.fill_name)


def token_rows(mode_name: str, named: dict, options: dict) -> list[tuple[int, int, int]]:
    """(first token row, tokens, kv length) of every request, read to the host: a planted variant may
    sync, since the rows it is there to fail judge only its values."""
    mode = forward_mode(mode_name)
    extend = named["extend_seq_lens"].tolist() if "extend_seq_lens" in named else None
    rows, first = [], 0
    for kv, tokens in mode.request_lengths(named["seq_lens"].tolist(), extend, options.get("next_n", 1)):
        rows.append((first, tokens, kv))
        first += tokens
    return rows



def after_shipped(corrupt) -> tuple:
    """(decode's, target-verify's, draft-extend's) fill: the shipped one, then
    `corrupt(mode_name, named, buffers, before, options)` over what it wrote, `before` being the
    buffers as they stood before the call."""

    def planted(mode_name: str):
        mode = forward_mode(mode_name)

        def fill(*args, **options):
            named = dict(zip(mode.inputs, args))
            buffers = args[len(mode.inputs)]
            before = buffers.clone()
            shipped_fill(mode)(*args, **options)
            corrupt(mode_name, named, buffers, before, options)

        fill.__name__ = mode.fill_name
        return fill

    return tuple(planted(name) for name in ("decode", "target-verify", "draft-extend"))
