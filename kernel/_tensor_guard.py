"""What the plan caches take from PyTorch's internals, with attributes read from Python as the fallback.

A cached plan (kernel.launch) or a drop-in's kept launch (kernel.sglang) serves only a call whose
tensors have the addresses, dtypes, devices, shapes and strides of the call it was made for: the
first call's checks and launch arguments read nothing else. Read from Python, the last four cost
about 0.3 us a tensor, and a fill has 9 to 12 tensors; on this project's CPU machine that was 4.1
of the 4.4 us of the public fill's key. So the caches key a call by its tensors' addresses and its
host values, and each entry holds a guard, made from its first call's tensors, that checks the rest
of every later call's in one C++ call: PyTorch's compiled tensor check
(`torch._C._dynamo.guards.TensorGuards`, from which TorchDynamo's tensor guards grew). It checks the
dtype, the device, the sizes and the strides, and more than the plan needs: the Python type,
requires_grad, and the dispatch keys under the thread's dispatch state, which entering or leaving
`torch.inference_mode` changes (SGLang's scheduler runs under it; a graph may be captured outside
it). So where the compiled check fails, the guard compares the four attributes read from Python
before it answers: the answer is always theirs, and the C++ call only makes the usual one cheap.

`TensorGuards` is not public API. Where it is missing or refuses to build (another PyTorch; an
object that stands in for a tensor), the guard compares the attributes alone: slower, the same
answer.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch

try:
    from torch._C._dynamo.guards import TensorGuards as _TensorGuards
except ImportError:
    _TensorGuards = None

# A key's tensor addresses: unbound, it skips a method lookup per tensor (0.2 us a call of 9 tensors
# on this project's CPU machine).
data_ptr = torch.Tensor.data_ptr

# What a guard holds in place of an absent (None) tensor, so that the C++ check sees one tensor at
# every position; the caches' keys tell an absent tensor from a present one.
ABSENT = torch.empty(0, dtype=torch.int32)


def _attributes(tensors: Sequence[torch.Tensor]) -> list[tuple]:
    return [(t.dtype, t.device, t.shape, t.stride()) for t in tensors]


def _compiled(tensors: Sequence[torch.Tensor]) -> Callable[..., bool] | None:
    """PyTorch's compiled check of `tensors`' metadata, every size and stride static; None where this
    PyTorch has none that takes them, or it does not hold for the very tensors it was made from."""
    if _TensorGuards is None:
        return None
    try:
        guards = _TensorGuards(
            *tensors,
            dynamic_dims_sizes=[list(t.shape) for t in tensors],
            dynamic_dims_strides=[list(t.stride()) for t in tensors],
        )
        holds = guards.check
        return holds if holds(*tensors) is True else None
    except (TypeError, ValueError, RuntimeError, AttributeError, SystemError):
        return None


def tensor_guard(tensors: Sequence[torch.Tensor]) -> Callable[..., bool]:
    """`holds(*given)`: whether `given` (as many tensors, in the same order) have the dtypes, devices,
    shapes and strides of `tensors`. The guard keeps none of `tensors` alive."""
    expected = _attributes(tensors)

    def by_attributes(*given: torch.Tensor) -> bool:
        return _attributes(given) == expected

    compiled = _compiled(tensors)
    if compiled is None:
        return by_attributes

    def holds(*given: torch.Tensor) -> bool:
        try:
            if compiled(*given):
                return True
        except TypeError:  # not as many tensors as it was made from: the attributes say no
            pass
        return by_attributes(*given)

    return holds
