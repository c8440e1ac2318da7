"""The launcher's private Triton API (kernel._triton_launch) and its public fallback.

Where the private API is missing, or its launcher's argument layout has changed, the launcher must
notice once and take Triton's public path from then on, with results still bit-for-bit the
reference's. The plan cache serves CUDA tensors only, so on the CPU the tests below make the cache
take CPU tensors (under the interpreter) and stand in fakes for the driver and the compiled kernel;
the GPU test at the end runs the real thing both ways.
"""

from __future__ import annotations

import weakref
from types import SimpleNamespace

import pytest
import torch

import kernel
from kernel import _triton_launch
from kernel import launch
from kernel.launch import LAUNCHER
from properties.compare import compare, report
from properties.edges import EDGE_EXAMPLES, EDGE_EXAMPLES_BY_MODE
from properties.harness import run, run_reference
from properties.peers import KERNELS

CASES = ("decode_like", "page_size_64", "int64_inputs", "slack_max_seqlen_k")
STREAM, DEVICE_INDEX = 7, 0


class OnDevice(torch.Tensor):
    """A CPU tensor that the plan cache reads as a CUDA one, so that the launcher's GPU wiring runs
    under the interpreter."""

    is_cuda = True
    __torch_function__ = torch._C._disabled_torch_function_impl


class FakeCompiled:
    def __init__(self, run, without: tuple[str, ...] = ()):
        self.run = run
        self.function = "function-handle"
        self.packed_metadata = "packed-metadata"
        for name in without:
            delattr(self, name)


def fake_driver(patch) -> None:
    """The active driver's current device and stream, as the probe reads them."""
    patch.setattr(_triton_launch, "_current_device", lambda: DEVICE_INDEX)
    patch.setattr(_triton_launch, "_current_stream", lambda device: STREAM)


@pytest.fixture
def fresh_launcher(monkeypatch):
    """No probe yet and no cached plan; the state is restored afterwards."""
    monkeypatch.setattr(_triton_launch, "_available", None)
    monkeypatch.setattr(LAUNCHER, "plans", {})
    return monkeypatch


@pytest.fixture
def plans_for_cpu(fresh_launcher):
    original = launch._signature
    fresh_launcher.setattr(
        launch, "_signature", lambda tensors, host: original([t.as_subclass(OnDevice) if isinstance(t, torch.Tensor) else t for t in tensors], host)
    )
    return fresh_launcher


@pytest.fixture
def private_api_present(plans_for_cpu):
    """The probe finds a driver and a launch-hook knob with no hook installed."""

    def probe():
        _triton_launch._knobs = SimpleNamespace(runtime=SimpleNamespace(launch_enter_hook=None))
        fake_driver(plans_for_cpu)
        return True

    plans_for_cpu.setattr(_triton_launch, "_knobs", None)
    plans_for_cpu.setattr(_triton_launch, "_current_device", None)
    plans_for_cpu.setattr(_triton_launch, "_current_stream", None)
    plans_for_cpu.setattr(_triton_launch, "probe", probe)
    return plans_for_cpu


def assert_twice_equals_reference(case, device) -> None:
    """A first call, then a second on the same tensors (a cached plan's path where there is one)."""
    got = run(kernel.fill_draft_extend_metadata, case, device)
    kernel.fill_draft_extend_metadata(*got.inputs, got.after, **case.options())
    mismatches = compare(case, run_reference(case, device).after, got.after, got.before)
    assert not mismatches, report(mismatches)


def test_a_missing_private_api_is_probed_once(fresh_launcher):
    probes = []
    fresh_launcher.setattr(_triton_launch, "probe", lambda: probes.append(1) or False)
    assert not _triton_launch.direct_launch_usable()
    assert not _triton_launch.direct_launch_usable()
    assert probes == [1]


@pytest.mark.parametrize(
    "hook, usable",
    [
        (None, True),
        (lambda *args: None, False),
        (SimpleNamespace(calls=[]), True),
        (SimpleNamespace(calls=[print]), False),
    ],
    ids=["no hook", "plain hook", "empty chain", "chain with a hook"],
)
def test_a_launch_hook_sends_calls_to_the_public_path(fresh_launcher, hook, usable):
    fresh_launcher.setattr(_triton_launch, "_available", True)
    knobs = SimpleNamespace(runtime=SimpleNamespace(launch_enter_hook=hook))
    fresh_launcher.setattr(_triton_launch, "_knobs", knobs)
    assert _triton_launch.direct_launch_usable() is usable


def test_a_direct_launch_binds_the_launchers_layout_and_addresses(fresh_launcher):
    fake_driver(fresh_launcher)
    launched, public = [], []
    compiled = FakeCompiled(lambda *args: launched.append(args))

    class FakeKernel:
        def warmup(self, *args, grid, **options):
            return compiled

        def __getitem__(self, grid):
            return lambda *args: public.append(args)

    tensor = torch.arange(4, dtype=torch.int32)
    launch = _triton_launch.first_launch(FakeKernel(), (3, 5), (tensor, 11, True))
    assert launch is not None
    address, kept = tensor.data_ptr(), weakref.ref(tensor)
    del tensor
    assert kept() is None, "a kept launch must not keep its tensors alive"
    launch()
    expected = (3, 5, 1, STREAM, "function-handle", "packed-metadata", None, None, None)
    assert len(launched) == 2 and launched[0] == launched[1]
    assert launched[0] == (*expected, address, 11, True)
    assert public == []
    assert _triton_launch._available is None  # nothing was found wrong


@pytest.mark.parametrize("name", CASES)
def test_without_the_private_api_calls_take_the_public_path(plans_for_cpu, name, device):
    plans_for_cpu.setattr(_triton_launch, "probe", lambda: False)
    assert_twice_equals_reference(EDGE_EXAMPLES[name], device)
    assert LAUNCHER.plans == {}


@pytest.mark.skipif(torch.cuda.is_available(), reason="on a GPU warmup does compile: see the GPU test below")
@pytest.mark.parametrize("name", CASES)
def test_a_compiled_kernel_without_the_private_api_falls_back(private_api_present, name, device):
    """Under the interpreter, warmup compiles nothing and returns None: no `run`, no `function`."""
    assert_twice_equals_reference(EDGE_EXAMPLES[name], device)
    assert _triton_launch._available is False
    assert LAUNCHER.plans == {}


@pytest.mark.parametrize("missing", ["packed_metadata", "function"])
def test_a_compiled_kernel_missing_an_attribute_falls_back(private_api_present, missing, device):
    private_api_present.setitem(
        vars(LAUNCHER.kernel),
        "warmup",
        lambda *args, grid, **options: FakeCompiled(lambda *a: pytest.fail("launched without all it needs"), without=(missing,)),
    )
    assert_twice_equals_reference(EDGE_EXAMPLES["page_size_64"], device)
    assert _triton_launch._available is False


@pytest.mark.parametrize("name", CASES)
def test_a_changed_launcher_signature_falls_back(private_api_present, name, device):
    """A launcher that wants a new keyword argument rejects the 3.6-3.9 layout with TypeError before
    launching anything; the call then launches through the public path, and so do all later ones."""
    rejected = []

    def changed_launcher(grid_x, grid_y, grid_z, stream, function, metadata, launch_metadata, *args, pdl):
        pytest.fail("launched with an incomplete layout")

    def warmup(*args, grid, **options):
        rejected.append(grid)
        return FakeCompiled(changed_launcher)

    private_api_present.setitem(vars(LAUNCHER.kernel), "warmup", warmup)
    assert_twice_equals_reference(EDGE_EXAMPLES[name], device)
    assert len(rejected) == 1, "the changed layout must be detected once, then never tried again"
    assert _triton_launch._available is False
    assert LAUNCHER.plans == {}


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("path", ["direct", "probe_missing", "changed_signature"])
def test_both_paths_on_the_gpu(fresh_launcher, name, path):
    real_warmup = LAUNCHER.kernel.warmup

    def changed_launcher(grid_x, grid_y, grid_z, stream, function, metadata, launch_metadata, *args, pdl):
        pytest.fail("launched with an incomplete layout")

    def warmup(*args, grid, **options):
        compiled = real_warmup(*args, grid=grid, **options)
        compiled.run  # loads the binary, which sets `function`
        proxy = FakeCompiled(changed_launcher)
        proxy.function, proxy.packed_metadata = compiled.function, compiled.packed_metadata
        return proxy

    if path == "probe_missing":
        fresh_launcher.setattr(_triton_launch, "probe", lambda: False)
    if path == "changed_signature":
        fresh_launcher.setitem(vars(LAUNCHER.kernel), "warmup", warmup)
    assert_twice_equals_reference(EDGE_EXAMPLES[name], torch.device("cuda"))
    if path == "direct":
        assert _triton_launch._available is True
        assert [type(plan.direct) for plan in LAUNCHER.plans.values()] == [_triton_launch.DirectLaunch]
    else:
        assert _triton_launch._available is False
        assert LAUNCHER.plans == {}


# Forward mode -> (SGLang's convention, the drop-in's name, which is SGLang's).
DROP_INS = {mode: (f"sglang-fused-{mode}", callable_name) for mode, (_, callable_name) in KERNELS["plain"].items()}


@pytest.fixture
def drop_in_launches(private_api_present):
    """The SGLang drop-ins over a kernel whose compiled form records its launches, with no kept
    launch yet; (how many calls took the full path, the launches)."""
    import kernel.sglang as drop_ins

    launched, full_path = [], []
    private_api_present.setitem(
        vars(LAUNCHER.kernel), "warmup", lambda *args, grid, **options: FakeCompiled(lambda *a: launched.append(a)),
    )
    private_api_present.setattr(drop_ins, "_LAUNCHES", {})
    shipped = drop_ins.fill_call
    private_api_present.setattr(drop_ins, "fill_call", lambda call: full_path.append(call) or shipped(call))
    return full_path, launched


def drop_in_call(forward_mode: str, device):
    """The mode's first edge example through its drop-in, as SGLang's convention calls it, and how
    to call it again on the same tensors."""
    import kernel.sglang as drop_ins
    from properties.conventions import adapt
    from properties.harness import on_host

    convention, name = DROP_INS[forward_mode]
    case = next(iter(EDGE_EXAMPLES_BY_MODE[forward_mode].values()))
    fill = adapt(getattr(drop_ins, name), convention, f"kernel.sglang:{name}", forward_mode)
    inputs, buffers = case.inputs(device), case.buffers(device)

    def call():
        with on_host(case):
            fill(*inputs, buffers, **case.options())

    return call, inputs


@pytest.mark.parametrize("forward_mode", DROP_INS)
def test_a_repeated_drop_in_call_replays_its_kept_launch(drop_in_launches, forward_mode, device):
    """SGLang's replay calls a drop-in with the same tensors step after step: from the second call on,
    it launches the kept direct launch and builds nothing; new tensors take the full path again."""
    full_path, launched = drop_in_launches
    call, inputs = drop_in_call(forward_mode, device)
    call()
    assert (len(full_path), len(launched)) == (1, 1)
    call()
    call()
    assert (len(full_path), len(launched)) == (1, 3), "a repeated call must replay its kept launch"
    assert launched[1] == launched[2] == launched[0]
    inputs[0].copy_(inputs[0] + 1)  # new values in the same tensor: the same launch reads them on the device
    call()
    assert (len(full_path), len(launched)) == (1, 4)
    fresh, _ = drop_in_call(forward_mode, device)  # the same values in new tensors: new addresses, a new key
    fresh()
    assert len(full_path) == 2


@pytest.mark.parametrize(
    "switch",
    ["validation mode", "Triton path off", "launch hook"],
)
def test_a_switch_sends_every_drop_in_call_down_the_full_path(drop_in_launches, switch, monkeypatch, device):
    """A kept launch skips the checks and Triton's own launch: validation mode, the reference path
    and a profiler's launch hook must each see every call."""
    full_path, launched = drop_in_launches
    call, _ = drop_in_call("draft-extend", device)
    call()
    if switch == "validation mode":
        monkeypatch.setenv("SGLANG_DSA_METADATA_VALIDATE", "1")
    elif switch == "Triton path off":
        monkeypatch.setenv("SGLANG_DSA_USE_TRITON_METADATA", "0")
    else:
        monkeypatch.setattr(_triton_launch._knobs.runtime, "launch_enter_hook", lambda *args: None)
    call()
    call()
    assert len(full_path) == 3


def test_a_drop_in_argument_of_the_wrong_kind_is_still_named(drop_in_launches, device):
    """The key reads each tensor's address; an argument that has none must reach the checks, which
    name it, and not fail in the key."""
    import kernel.sglang as drop_ins

    call, inputs = drop_in_call("decode", device)
    call()
    with pytest.raises((TypeError, ValueError), match="seq_lens"):
        drop_ins.fused_dsa_decode_metadata(
            inputs[0].tolist(), *inputs[1:3], *([torch.zeros(8, dtype=torch.int32)] * 6), bs=2, max_len=8, dsa_index_topk=4,
            real_page_size=1,
        )


def _same_address(tensor: torch.Tensor, change: str) -> torch.Tensor:
    """A view at `tensor`'s very address with another dtype, a shorter shape or another stride."""
    n = tensor.shape[0]
    other = {
        "dtype": lambda: tensor.view(torch.float64 if tensor.dtype == torch.int64 else torch.float32),
        "shape": lambda: tensor[: n - 1],
        "stride": lambda: tensor.as_strided((n,), (2,)) if n == 1 else tensor[::2],
    }[change]()
    assert other.data_ptr() == tensor.data_ptr()
    return other


@pytest.mark.parametrize("change", ["dtype", "shape", "stride"])
def test_a_tensor_at_the_same_address_with_other_metadata_takes_the_full_path(drop_in_launches, guard_form, change, device):
    """The key and its guard read every attribute the first call's checks read: a view at the very
    address of a kept call's tensor, with another dtype, a shorter shape or another stride, is
    checked again (and refused, naming the argument), never launched with the kept call's plan."""
    import kernel.sglang as drop_ins

    full_path, launched = drop_in_launches
    case = next(iter(EDGE_EXAMPLES_BY_MODE["decode"].values()))
    (seq_lens, req_pool_indices, req_to_token), buffers = case.inputs(device), case.buffers(device)
    bs = seq_lens.shape[0]
    arguments = dict(
        req_pool_indices=req_pool_indices, req_to_token=req_to_token, cache_seqlens=buffers.cache_seqlens_int32[:bs],
        cu_seqlens_k=buffers.cu_seqlens_k[: bs + 1], page_table_1=buffers.page_table_1[:bs],
        dsa_cache_seqlens=buffers.nsa_cache_seqlens_int32[:bs], dsa_cu_seqlens_k=buffers.nsa_cu_seqlens_k[: bs + 1],
        real_page_table=buffers.real_page_table[:bs], bs=bs, max_len=case.max_seqlen_k, dsa_index_topk=case.nsa_index_topk,
        real_page_size=case.page_size,
    )
    drop_ins.fused_dsa_decode_metadata(seq_lens, **arguments)
    assert len(full_path) == 1
    with pytest.raises((TypeError, ValueError), match="seq_lens"):
        drop_ins.fused_dsa_decode_metadata(_same_address(seq_lens, change), **arguments)
    assert len(full_path) == 2 and len(launched) == 1, "the kept launch ran on a tensor its checks never saw"


@pytest.mark.parametrize("change", ["dtype", "shape", "stride"])
def test_a_public_fill_on_a_tensor_at_a_cached_address_with_other_metadata_is_planned_anew(
    private_api_present, guard_form, change, device
):
    """The public fill's plan cache likewise: a call whose tensor sits at a cached plan's address with
    another dtype, shape or stride is checked (refused or planned anew), never launched with the
    cached plan; the new plan takes the key."""
    launched, checked = [], []
    private_api_present.setitem(
        vars(LAUNCHER.kernel), "warmup", lambda *args, grid, **options: FakeCompiled(lambda *a: launched.append(a)),
    )
    shipped_check = launch.check_call
    private_api_present.setattr(launch, "check_call", lambda *args: checked.append(1) or shipped_check(*args))
    case = EDGE_EXAMPLES_BY_MODE["decode"]["page_size_64"]
    (seq_lens, req_pool_indices, req_to_token), buffers = case.inputs(device), case.buffers(device)
    kernel.fill_decode_metadata(seq_lens, req_pool_indices, req_to_token, buffers, **case.options())
    kernel.fill_decode_metadata(seq_lens, req_pool_indices, req_to_token, buffers, **case.options())
    assert (len(checked), len(launched)) == (1, 2), "a repeated call must take its cached plan"
    try:
        kernel.fill_decode_metadata(_same_address(seq_lens, change), req_pool_indices, req_to_token, buffers, **case.options())
    except (TypeError, ValueError) as error:
        assert "seq_lens" in str(error)
        assert len(launched) == 2, "a refused call launched"
    else:
        assert len(launched) == 3 and len(LAUNCHER.plans) == 1, "the new plan must take the cached plan's key"
    assert len(checked) == 2, "the cached plan served a tensor its checks never saw"
