"""The runtime laws, which need a GPU: no host sync once warm, graph capture and replay (the
engine's padded buckets included), and the caller's stream order. The values each replay writes are
judged as the value laws judge a call (`properties.laws.steps_match_reference`).
"""

from __future__ import annotations

import warnings

import torch

from properties.cases import ReplayCase
from properties.compare import compare, report
from properties.failures import STREAM_ERRORS, LawBroken, capture_failure, first_line, require
from properties.harness import Contract, on_host
from properties.laws import calls_match_reference, steps_match_reference
from reference.buffers import whole_storage
from reference.eager import FILLS


SYNCS = "synchronizes with the host (`.item()`, `.tolist()`, `.cpu()` or a data-dependent shape)"


def never_syncs_with_host(fill: Contract, case: ReplayCase, device: torch.device) -> None:
    """Once warm (compiled, planned), a call makes no host sync: it runs clean under
    torch.cuda.set_sync_debug_mode("error"), whose check is shown live by a deliberate `.item()`."""
    inputs, buffers = case.inputs(device), case.buffers(device)
    with on_host(case):
        fill(*inputs, buffers, **case.options())
    torch.cuda.synchronize()
    with warnings.catch_warnings():
        # torch warns once per process that the mode is a prototype: a 300-character line in a verdict.
        warnings.filterwarnings("ignore", message="Synchronization debug mode is a prototype")
        torch.cuda.set_sync_debug_mode("error")
    try:
        with on_host(case):
            fill(*inputs, buffers, **case.options())
        try:
            inputs[0].sum().item()
        except RuntimeError:
            pass
        else:
            raise LawBroken("the sync check is not live: a deliberate .item() did not raise")
    except RuntimeError as error:
        raise LawBroken(f"{SYNCS}: {first_line(error)}") from error
    finally:
        torch.cuda.set_sync_debug_mode(0)


def _capture(fill: Contract, case: ReplayCase, captured, buffers, stream=None) -> "torch.cuda.CUDAGraph":
    """A graph of one call, captured on `stream` (a side stream by default) after a warm call there."""
    side = stream or torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    try:
        with torch.cuda.stream(side), on_host(case):
            fill(*captured, buffers, **case.options())
    except Exception as error:
        raise LawBroken(f"the variant raised {first_line(error)} on its warm call, before capture") from error
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    try:
        with torch.cuda.graph(graph, stream=side), on_host(case):
            fill(*captured, buffers, **case.options())
    except Exception as error:
        raise LawBroken(capture_failure(error)) from error
    return graph


def graph_replays_match_reference(fill: Contract, session, device: torch.device) -> None:
    """Captured once in a CUDA graph, then replayed with each step's values written into the captured
    input tensors: after every replay every buffer equals the reference's on that step's inputs,
    padding included (the reference keeps its own copy of the buffers, step after step)."""
    first = session.steps[0]
    reference = FILLS[first.forward_mode]
    captured = first.inputs(device)
    buffers = session.buffers(device)
    mirror = buffers.clone()
    graph = _capture(fill, first, captured, buffers)
    reference(*captured, mirror, **first.options())
    steps_match_reference(session.steps, captured, buffers, mirror, lambda step, views: graph.replay(), device, "replay")


def engine_replays_match_reference(fill: Contract, session, device: torch.device) -> None:
    """SGLang's runner, step by step: a bucket captured on the fill values, then replays with a
    changing number of live requests and the rest padded in place; every replay equals the reference,
    padding requests and buffer padding included. On a GPU the call is captured once and replayed;
    without one the same steps are calls on the very same tensors and buffers. So are they for a fill
    whose convention passes host values that change from step to step (`reads_host_values`: SGLang's
    draft-extend kernels take the step's token total): SGLang's runner calls its metadata kernels
    before each replay, outside the graph, with that step's values (sglang 0.5.23's
    srt/layers/attention/dsa_backend.py, `init_forward_metadata_out_graph`), so a
    capture would replay values no engine gives such a kernel."""
    if device.type == "cuda" and not getattr(fill, "reads_host_values", False):
        graph_replays_match_reference(fill, session, device)
        return
    calls_match_reference(fill, session.steps, session.steps[0].inputs(device), session.buffers(device), device, "replay")


# A device-side wait far longer than any call takes to run: ~0.1 s at a Hopper GPU's clock.
SLEEP_CYCLES = 200_000_000
READS_TOO_EARLY = (
    "does not run on the caller's current stream: it read its inputs before the caller's stream had "
    "written them (it never waits for that stream)"
)
WRITES_TOO_LATE = (
    "does not run on the caller's current stream: a read enqueued on that stream right after the call "
    "saw the buffers before its writes (it works on another stream and never joins back)"
)


def runs_on_callers_stream(fill: Contract, case: ReplayCase, device: torch.device) -> None:
    """The variant runs on the caller's current stream, as a PyTorch op does. On a non-default caller
    stream, behind a long device-side wait, the inputs are written and the call made; what it reads
    must be those inputs, and a read enqueued on that stream right after it, with no synchronize
    between, must see what the variant writes on them when nothing else is in flight. A capture on
    that stream must not find work on a stream it never joins. The wait makes a variant that ignores
    the caller's stream read the old inputs on every run; the capture shows one that forks from it and
    never joins back."""
    old = case.follow_ups()[0]
    inputs = old.inputs(device)
    values = case.inputs(device)
    buffers = case.buffers(device)
    pristine = buffers.clone()
    # What the variant itself writes on these inputs, called with nothing else in flight: this law
    # judges the stream order alone, whatever the values (the values row judges those).
    expected = buffers.clone()
    with on_host(case):
        fill(*case.inputs(device), expected, **case.options())
    torch.cuda.synchronize()
    # Warm on these very tensors (compiled, planned), then back to the untouched buffers.
    with on_host(old):
        fill(*inputs, buffers, **old.options())
    torch.cuda.synchronize()
    for name, t in buffers.named().items():
        whole_storage(t).copy_(whole_storage(getattr(pristine, name)))
    torch.cuda.synchronize()

    caller = torch.cuda.Stream(device)
    with torch.cuda.stream(caller):
        torch.cuda._sleep(SLEEP_CYCLES)
        for t, v in zip(inputs, values):
            t.copy_(v)
        with on_host(case):
            fill(*inputs, buffers, **case.options())
        seen = buffers.clone()
    torch.cuda.synchronize()
    mismatches = compare(case, expected, buffers)
    require(not mismatches, f"{READS_TOO_EARLY}:\n" + report(mismatches))
    mismatches = compare(case, expected, seen)
    require(not mismatches, f"{WRITES_TOO_LATE}:\n" + report(mismatches))

    try:
        _capture(fill, case, inputs, buffers, stream=caller)
    except LawBroken as error:
        if any(meaning in str(error) for _, meaning in STREAM_ERRORS):
            raise LawBroken(f"does not run on the caller's current stream: {error}") from error
