"""What a call of a variant knows on the host, and the words for a variant that cannot be called.

Both the harness, which runs variants, and the calling conventions, which wrap them, need these; they
live here so that neither imports the other's internals (the harness imports the conventions).
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable

Contract = Callable[..., None]


class BadVariant(ValueError):
    """A variant that cannot be loaded or called as named: one line a person can act on."""


_ON_HOST: ContextVar = ContextVar("case_on_host", default=None)


@contextmanager
def on_host(case):
    """Makes `case`'s plain values what the host knows during a call (`host_case()`): a calling
    convention whose kernel takes host ints (the total, the longest extension, bs, next_n) reads them
    there, as the serving engine holds them on the host, so the harness never syncs with the device
    for them."""
    token = _ON_HOST.set(case)
    try:
        yield
    finally:
        _ON_HOST.reset(token)


def host_case():
    return _ON_HOST.get()
