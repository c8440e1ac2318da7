"""The forward mode on every surface: each command of the properties CLI that judges a variant
takes --forward-mode (replay judges each reproducer in the mode it records), a convention implies
its mode and refuses another, and each mode's entry points share one signature
shape across the reference, the kernel and the contract convention."""

from __future__ import annotations

import inspect

import pytest

import kernel
import reference
from properties.cli import build_parser
from properties.harness import SHIPPED_KERNELS, BadVariant, load_variant
from reference.modes import FORWARD_MODES

COMMANDS = ("campaign", "diff", "gate", "mutants", "memcheck", "compiles", "past-int32", "throughput")


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("mode_name", FORWARD_MODES)
def test_every_command_takes_the_forward_mode(command, mode_name):
    extra = {"diff": ["--variant", "reference:fill_decode_metadata"]}.get(command, [])
    args = build_parser().parse_args([command, *extra, "--forward-mode", mode_name])
    assert args.forward_mode == mode_name


@pytest.mark.parametrize(
    "convention, mode_name",
    [("sglang-fused-decode", "decode"), ("sglang-fused-target-verify", "target-verify"), ("sglang-fused-draft-extend", "draft-extend"),
     ("seed-fused", "draft-extend")],
)
def test_a_convention_implies_its_forward_mode_and_refuses_another(convention, mode_name):
    spec = {"decode": "kernel.sglang:fused_dsa_decode_metadata", "target-verify": "kernel.sglang:fused_dsa_target_verify_metadata",
            "draft-extend": "kernel.sglang:fused_dsa_draft_extend_metadata"}[mode_name]
    if convention == "seed-fused":
        spec = "tests.standins.seed_fused:fill_draft_extend_metadata_fused"
    assert load_variant(spec, convention).forward_mode == mode_name
    other = next(name for name in FORWARD_MODES if name != mode_name)
    with pytest.raises(BadVariant, match=f"the {convention} convention is the {mode_name} mode's"):
        load_variant(spec, convention, other)


@pytest.mark.parametrize("mode_name", FORWARD_MODES)
def test_reference_and_kernel_take_the_modes_contract(mode_name):
    mode = reference.forward_mode(mode_name)
    name = SHIPPED_KERNELS[mode_name].partition(":")[2]
    for fill in (getattr(reference, name), getattr(kernel, name)):
        parameters = list(inspect.signature(fill).parameters)
        assert parameters[: len(mode.inputs) + 1] == [*mode.inputs, "buffers"]
        assert set(mode.options) <= set(parameters)
    assert load_variant(SHIPPED_KERNELS[mode_name], forward_mode=mode_name).forward_mode == mode_name


def test_a_variant_without_the_modes_signature_is_refused_naming_the_mode():
    with pytest.raises(BadVariant, match="the target-verify contract's signature"):
        load_variant("reference:fill_decode_metadata", forward_mode="target-verify")
