"""Environment switches read at every call, at the cost of one dict lookup.

Every metadata call reads two switches (the Triton path, validation mode), so that a serving process
can flip either between steps. `os.environ.get` encodes the name and, for an unset variable (the
usual case), raises and catches a KeyError inside the mapping: 0.7 to 1.7 us a read on an H100
host, against 0.14 to 0.33 us this way (`benchmarks.host_breakdown`). CPython's `os.environ` keeps its raw
mapping in `_data`, which every change made through `os.environ` updates (`mock.patch.dict` and
pytest's `monkeypatch` included). A switch reads that mapping with its name and its "off" values
encoded once. Where `os.environ` has no such mapping (another Python, or a test that replaced
`os.environ`), it reads `os.environ.get`: slower, the same answer.
"""

from __future__ import annotations

import os


# What turns a switch off, whichever way a deployment spells "no".
OFF_VALUES = ("0", "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF")


class Switch:
    """An on/off environment variable: `default_on` while unset, off for any of `off_values`, on for
    anything else. Where `alias` is given (an older spelling, as SGLang keeps its NSA names beside
    the DSA ones), it answers while `name` is unset."""

    __slots__ = ("name", "alias", "default_on", "_off", "_raw_name", "_raw_alias", "_raw_off")

    def __init__(self, name: str, *, default_on: bool, off_values: tuple[str, ...], alias: str | None = None):
        self.name = name
        self.alias = alias
        self.default_on = default_on
        self._off = frozenset(off_values)
        encodekey = getattr(os.environ, "encodekey", None)
        encodevalue = getattr(os.environ, "encodevalue", None)
        if callable(encodekey) and callable(encodevalue):
            self._raw_name = encodekey(name)
            self._raw_alias = None if alias is None else encodekey(alias)
            self._raw_off = frozenset(map(encodevalue, off_values))
        else:
            self._raw_name = self._raw_alias = self._raw_off = None

    def on(self) -> bool:
        raw = getattr(os.environ, "_data", None)
        if raw is not None and self._raw_name is not None:
            value = raw.get(self._raw_name)
            if value is None and self._raw_alias is not None:
                value = raw.get(self._raw_alias)
            return self.default_on if value is None else value not in self._raw_off
        value = os.environ.get(self.name)
        if value is None and self.alias is not None:
            value = os.environ.get(self.alias)
        return self.default_on if value is None else value not in self._off
