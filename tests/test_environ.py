"""The kernel's environment switches answer exactly what `os.environ.get` would, at every call: on
CPython's raw mapping and on the fallback, for any value, and after every way a test or a serving
process changes the environment."""

from __future__ import annotations

import os
from unittest import mock

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import kernel
from kernel._environ import Switch
from kernel.validation import validation_requested

NAME = "NSA_METADATA_TEST_SWITCH"
SWITCHES = {
    "triton path": dict(default_on=True, off_values=("0", "false", "False")),
    "validation": dict(default_on=False, off_values=("", "0")),
}
# What an environment variable can hold: no NUL, and nothing the filesystem encoding cannot carry.
env_values = st.none() | st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8)


def expected(value: str | None, default_on: bool, off_values: tuple[str, ...]) -> bool:
    """The switch's law, written with os.environ.get's own answer."""
    return default_on if value is None else value not in off_values


def set_or_unset(value: str | None) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if k != NAME}
    return environ if value is None else {**environ, NAME: value}


@pytest.mark.parametrize("switch", SWITCHES)
@example(value=None)
@example(value="")
@example(value="0")
@example(value="false")
@example(value="False")
@example(value="1")
@example(value="FALSE")
@given(value=env_values)
def test_a_switch_reads_what_os_environ_holds(switch, value):
    options = SWITCHES[switch]
    with mock.patch.dict(os.environ, set_or_unset(value), clear=True):
        assert Switch(NAME, **options).on() == expected(os.environ.get(NAME), **options)


@pytest.mark.parametrize("switch", SWITCHES)
@given(value=env_values)
def test_without_the_raw_mapping_it_falls_back_to_os_environ_get(switch, value):
    """A replaced os.environ (a plain dict here) has no raw mapping: the switch asks it directly."""
    options = SWITCHES[switch]
    replaced = {} if value is None else {NAME: value}
    with mock.patch.object(os, "environ", replaced):
        assert Switch(NAME, **options).on() == expected(value, **options)


def test_a_change_is_seen_at_the_next_call(monkeypatch):
    """Built once, read at every call: setenv, delenv and a direct assignment all show."""
    switch = Switch(NAME, **SWITCHES["triton path"])
    monkeypatch.delenv(NAME, raising=False)
    assert switch.on()
    monkeypatch.setenv(NAME, "0")
    assert not switch.on()
    os.environ[NAME] = "1"
    assert switch.on()
    monkeypatch.delenv(NAME)
    assert switch.on()


def test_the_kernel_switches_follow_the_environment(monkeypatch):
    monkeypatch.setenv("SGLANG_DSA_USE_TRITON_METADATA", "false")
    assert not kernel.triton_enabled()
    monkeypatch.setenv("SGLANG_DSA_USE_TRITON_METADATA", "1")
    assert kernel.triton_enabled() == kernel.TRITON_AVAILABLE
    monkeypatch.setenv("SGLANG_DSA_METADATA_VALIDATE", "1")
    assert validation_requested(None) and not validation_requested(False)
    monkeypatch.setenv("SGLANG_DSA_METADATA_VALIDATE", "0")
    assert not validation_requested(None) and validation_requested(True)


@pytest.mark.parametrize("name", ["DSA", "NSA"])
@pytest.mark.parametrize("off", ["0", "false", "no", "off"])
def test_both_switches_read_every_spelling_of_off_alike(monkeypatch, name, off):
    """0, false, no and off turn either switch off, under the DSA name and its NSA alias alike."""
    for switch in ("USE_TRITON_METADATA", "METADATA_VALIDATE"):
        for spelling in ("DSA", "NSA"):
            monkeypatch.delenv(f"SGLANG_{spelling}_{switch}", raising=False)
        monkeypatch.setenv(f"SGLANG_{name}_{switch}", off)
    assert not kernel.triton_enabled() and not validation_requested(None)


def test_the_dsa_spelling_answers_first_and_the_nsa_one_while_it_is_unset(monkeypatch):
    """SGLang's DSA name switches the Triton path; the seed's NSA name is its alias, as SGLang keeps
    its NSA names beside the DSA ones."""
    monkeypatch.delenv("SGLANG_DSA_USE_TRITON_METADATA", raising=False)
    monkeypatch.setenv("SGLANG_NSA_USE_TRITON_METADATA", "0")
    assert not kernel.triton_enabled()
    monkeypatch.setenv("SGLANG_DSA_USE_TRITON_METADATA", "1")
    assert kernel.triton_enabled() == kernel.TRITON_AVAILABLE
    monkeypatch.setenv("SGLANG_DSA_USE_TRITON_METADATA", "false")
    monkeypatch.setenv("SGLANG_NSA_USE_TRITON_METADATA", "1")
    assert not kernel.triton_enabled()


@pytest.mark.parametrize("value", ["0", "false", "False", "FALSE", "no", "off", ""])
def test_validation_mode_stays_off_for_every_spelling_of_no(monkeypatch, value):
    """`SGLANG_NSA_METADATA_VALIDATE=false` once turned validation on: every spelling of "no" is off,
    under the DSA name and under the seed's NSA alias alike."""
    for name in ("SGLANG_DSA_METADATA_VALIDATE", "SGLANG_NSA_METADATA_VALIDATE"):
        monkeypatch.delenv("SGLANG_DSA_METADATA_VALIDATE", raising=False)
        monkeypatch.setenv(name, value)
        assert not validation_requested(None), (name, value)


def test_the_dsa_validation_name_answers_first(monkeypatch):
    monkeypatch.setenv("SGLANG_NSA_METADATA_VALIDATE", "1")
    monkeypatch.setenv("SGLANG_DSA_METADATA_VALIDATE", "0")
    assert not validation_requested(None)
    monkeypatch.setenv("SGLANG_DSA_METADATA_VALIDATE", "1")
    monkeypatch.setenv("SGLANG_NSA_METADATA_VALIDATE", "0")
    assert validation_requested(None)
