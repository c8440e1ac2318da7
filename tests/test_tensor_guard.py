"""The plan caches' guard on a call's tensor metadata (kernel._tensor_guard), in both its forms:
PyTorch's compiled tensor check, and the attributes read from Python where that is missing (the
`guard_form` fixture runs a test under each)."""

from __future__ import annotations

import weakref

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernel import _tensor_guard
from kernel._tensor_guard import tensor_guard


def _tensors(device) -> list[torch.Tensor]:
    return [
        torch.arange(8, dtype=torch.int32, device=device),
        torch.zeros(4, 16, dtype=torch.int32, device=device),
        torch.zeros(3, dtype=torch.int64, device=device),
        _tensor_guard.ABSENT,
    ]


def test_this_pytorch_has_the_compiled_check(device):
    """The fast form is the one in use on the PyTorch this project pins: if a release drops it, this
    says so, rather than the host time quietly growing."""
    assert _tensor_guard._compiled(_tensors(device)) is not None


def test_the_guard_holds_for_any_tensors_of_the_same_metadata(guard_form, device):
    tensors = _tensors(device)
    holds = tensor_guard(tensors)
    assert holds(*tensors)
    assert holds(*[t.clone() for t in tensors]), "the addresses are the key's; the guard checks the rest"


@pytest.mark.parametrize("change", ["dtype", "shape", "stride", "rank", "device"])
def test_the_guard_fails_for_any_other_dtype_shape_stride_or_device(guard_form, change, device):
    tensors = _tensors(device)
    holds = tensor_guard(tensors)
    table = tensors[1]
    other = {
        "dtype": lambda: table.view(torch.float32),
        "shape": lambda: table[:3],
        "stride": lambda: torch.zeros(4, 32, dtype=torch.int32, device=device)[:, :16],
        "rank": lambda: table.view(64),
        "device": lambda: torch.zeros(4, 16, dtype=torch.int32, device="meta"),
    }[change]()
    assert not holds(tensors[0], other, *tensors[2:])


def test_the_guard_fails_for_fewer_or_more_tensors(guard_form, device):
    tensors = _tensors(device)
    holds = tensor_guard(tensors)
    assert not holds(*tensors[:-1])
    assert not holds(*tensors, tensors[0])


def test_the_guard_keeps_no_tensor_alive(guard_form, device):
    tensors = _tensors(device)
    holds = tensor_guard(tensors)
    kept = weakref.ref(tensors[1])
    tensors[1] = None
    assert kept() is None, "a cached plan must not keep its call's tensors alive"
    assert not holds(*(torch.zeros(1) if t is None else t for t in tensors))


def test_an_object_the_compiled_check_refuses_takes_the_attribute_form(device):
    """A stand-in that is no torch.Tensor (as tests hand the plan cache for CPU tensors) gets the
    attribute form, which reads through it."""

    class StandIn:
        def __init__(self, tensor):
            self._tensor = tensor

        def __getattr__(self, name):
            return getattr(self._tensor, name)

    tensors = [StandIn(t) for t in _tensors(device)]
    assert _tensor_guard._compiled(tensors) is None
    holds = tensor_guard(tensors)
    assert holds(*tensors)
    assert not holds(*tensors[:1], StandIn(tensors[1]._tensor[:3]), *tensors[2:])


@pytest.mark.parametrize("built_in_inference_mode", [False, True], ids=["built outside", "built inside"])
def test_the_guard_holds_across_inference_mode(guard_form, built_in_inference_mode, device):
    """The compiled check also compares dispatch keys under the thread's dispatch state, which
    torch.inference_mode changes: SGLang's scheduler fills under it, and a graph may be captured
    outside it. Same tensors, same metadata: the guard holds either way, and the plan is kept."""
    if built_in_inference_mode:
        with torch.inference_mode():
            tensors = _tensors(device)
            holds = tensor_guard(tensors)
        assert holds(*tensors)
    else:
        tensors = _tensors(device)
        holds = tensor_guard(tensors)
        with torch.inference_mode():
            assert holds(*tensors)
            assert not holds(tensors[0], tensors[1][:3], *tensors[2:])


DTYPES = (torch.int32, torch.int64, torch.float32)


@st.composite
def tensor_specs(draw) -> dict:
    """A tensor's metadata: dtype, device, shape and strides (any, overlapping ones included), and
    requires_grad, which the compiled check compares and the plan does not need."""
    rank = draw(st.integers(0, 3))
    dtype = draw(st.sampled_from(DTYPES))
    return {
        "dtype": dtype,
        "device": draw(st.sampled_from(("cpu", "meta"))),
        "shape": tuple(draw(st.lists(st.integers(0, 4), min_size=rank, max_size=rank))),
        "stride": tuple(draw(st.lists(st.integers(0, 6), min_size=rank, max_size=rank))),
        "requires_grad": dtype.is_floating_point and draw(st.booleans()),
    }


@st.composite
def spec_pairs(draw) -> tuple[dict, dict]:
    """Two tensors' metadata, the second often the first with one field changed, so that both
    answers come up."""
    first = draw(tensor_specs())
    if draw(st.booleans()):
        return first, draw(tensor_specs())
    field = draw(st.sampled_from(sorted(first)))
    second = {**first, field: draw(tensor_specs())[field]}
    if len(second["stride"]) != len(second["shape"]):
        second["stride"] = first["stride"] if len(first["stride"]) == len(second["shape"]) else (1,) * len(second["shape"])
    if second["requires_grad"] and not second["dtype"].is_floating_point:
        second["requires_grad"] = False
    return first, second


def _made(spec: dict) -> torch.Tensor:
    tensor = torch.empty_strided(spec["shape"], spec["stride"], dtype=spec["dtype"], device=spec["device"])
    return tensor.requires_grad_(spec["requires_grad"])


@pytest.mark.parametrize("inference_mode_at_check", [False, True], ids=["same mode", "inference mode at the check"])
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pair=spec_pairs())
def test_the_guard_answers_what_the_attributes_answer(guard_form, inference_mode_at_check, pair):
    """The law the plan caches rest on: for any two tensors, the guard made from the first holds for
    the second exactly where their dtype, device, shape and strides are equal, whichever form it
    takes and whatever the compiled check compares besides (requires_grad, dispatch keys)."""
    first, second = (_made(spec) for spec in pair)
    holds = tensor_guard([first])
    with torch.inference_mode(inference_mode_at_check):
        answer = holds(second)
    expected = (first.dtype, first.device, first.shape, first.stride()) == (second.dtype, second.device, second.shape, second.stride())
    assert answer == expected, pair
