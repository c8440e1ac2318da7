"""Everything the launcher takes from Triton's internals, with Triton's public launch as the fallback.

A launch through `kernel[grid](*args)` binds and specialises every argument and looks the compiled
kernel up on every call. The compiled kernel's own launcher, called with arguments bound once, is
what takes a repeated call of the launcher from about 115 us to about 18 us of host time on an
H100. That launcher (`CompiledKernel.run` and its argument layout), the active driver's current
stream and the launch-hook knobs are not public API and have changed between Triton releases. So
they are probed once per process, at the first call that could use them, and each plan's first
direct launch runs under a guard: an AttributeError or TypeError there means this Triton is not
laid out as this module expects (it was written against 3.6 to 3.9), and from then on every call
takes the public path, which is slower but launches the same compiled kernel on the same arguments.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

_available: bool | None = None  # None until probed; False once the private API is missing or changed
_knobs: Any = None
# The active driver's current device and stream, read once: through `driver.active` each is a
# property and an attribute lookup on every launch.
_current_device: Callable[[], int] | None = None
_current_stream: Callable[[int], int] | None = None


def probe() -> bool:
    """Whether this Triton has the pieces a direct launch needs besides the compiled kernel: the
    launch-hook knob, and the active driver's current device and stream (Triton raises
    RuntimeError where no driver is active)."""
    global _knobs, _current_device, _current_stream
    try:
        from triton import knobs
        from triton.runtime import driver

        hook_knob_present = hasattr(knobs.runtime, "launch_enter_hook")
        current_device, current_stream = driver.active.get_current_device, driver.active.get_current_stream
    except (ImportError, AttributeError, RuntimeError):
        return False
    _knobs, _current_device, _current_stream = knobs, current_device, current_stream
    return hook_knob_present and callable(current_device) and callable(current_stream)


def _hook_installed() -> bool:
    # Since Triton 3.5 the knob holds a chain of hooks, empty when none is installed; before, a
    # callable or None.
    hook = _knobs.runtime.launch_enter_hook
    calls = getattr(hook, "calls", None)
    return bool(calls) if calls is not None else hook is not None


def direct_launch_usable() -> bool:
    """Whether a call may be planned for a direct launch now: the private API is there, and no
    launch hook is installed, since Triton runs hooks (profilers, tracers) only on its own path."""
    global _available
    if _available is None:
        _available = probe()
    return _available and not _hook_installed()


class DirectLaunch:
    """A compiled kernel's own launcher with its grid and arguments bound, each tensor replaced by
    its address, so that a kept launch keeps no tensor alive."""

    __slots__ = ("_run", "_function", "_metadata", "_grid", "_args")

    def __init__(self, compiled: Any, grid: tuple[int, ...], args: Sequence):
        # Reading `run` first: it loads the binary, which is what sets `function`.
        self._run = compiled.run
        self._function = compiled.function
        self._metadata = compiled.packed_metadata
        self._grid = (*grid, 1, 1)[:3]
        self._args = tuple(a.data_ptr() if hasattr(a, "data_ptr") else a for a in args)

    def __call__(self) -> None:
        self._run(*self._grid, _current_stream(_current_device()), self._function, self._metadata, None, None, None, *self._args)


def first_launch(kernel: Any, grid: tuple[int, ...], args: Sequence, **options: Any) -> Callable[[], None] | None:
    """Launch `kernel` on `grid` and `args` once, with launch `options` (num_warps), and return how to
    launch it again without Triton's JIT; None, after the same launch through the public path, where
    the private API is missing or laid out otherwise, and then no later plan tries it again."""
    global _available
    try:
        launch = DirectLaunch(kernel.warmup(*args, grid=grid, **options), grid, args)
        launch()
    except (AttributeError, TypeError):
        # The launcher rejects its arguments before launching anything, so the kernel has not run.
        _available = False
        kernel[grid](*args, **options)
        return None
    return launch
