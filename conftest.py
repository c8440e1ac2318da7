"""Suite-wide wiring: the device (one GPU per xdist worker), the Hypothesis profiles,
`--variant SPEC`, `--forward-mode decode|target-verify|draft-extend`, the engine profile
(`--profile sglang-dsa|sglang-dsv4|full-width`) and the rows required (`--require ROW,...`), in the
command line's vocabulary.

Without a GPU the tensors live on the CPU and Triton runs in its interpreter; the switch must be
made before anything imports Triton, which is why it happens here, at collection time.
"""

from __future__ import annotations

import faulthandler

import pytest

from properties.gpus import pin_xdist_worker

# Not in a pytest_configure hook: pytest imports this module before it calls any, and
# prepare_runtime() below initialises CUDA, which reads CUDA_VISIBLE_DEVICES only then.
pin_xdist_worker()

from properties.harness import (  # noqa: E402
    DEFAULT_DOMAIN,
    SHIPPED_KERNELS,
    BadVariant,
    implied_options,
    in_launch_form,
    load_variant,
    prepare_runtime,
)

DEVICE = prepare_runtime()

from properties.cases import DOMAINS  # noqa: E402
from properties.options import (  # noqa: E402
    CONVENTION_HELP,
    DOMAIN_HELP,
    FORWARD_MODE_HELP,
    PROFILE_HELP,
    REQUIRE_HELP,
    VARIANT_HELP,
    choice,
    rows,
)
from properties.conventions import CONVENTION_CHOICES  # noqa: E402
from properties.gate_rows import default_required  # noqa: E402
from properties.profiles import register_profiles  # noqa: E402
from reference.engines import DEFAULT_PROFILE, ENGINE_PROFILES  # noqa: E402
from reference.modes import FORWARD_MODES  # noqa: E402

register_profiles()

# The plugin any repository loads (its faults' hooks, --dsa-variant), where no install registered it.
pytest_plugins = ["properties.pytest_plugin"]


def pytest_addoption(parser):
    # The command line's vocabulary (properties.options): the same names, help and choices.
    parser.addoption("--variant", metavar="SPEC", help=VARIANT_HELP)
    parser.addoption(
        "--convention", default="contract", type=choice(CONVENTION_CHOICES), choices=CONVENTION_CHOICES, metavar="NAME", help=CONVENTION_HELP
    )
    parser.addoption("--forward-mode", type=choice(FORWARD_MODES), choices=FORWARD_MODES, help=FORWARD_MODE_HELP)
    parser.addoption("--domain", default=DEFAULT_DOMAIN, choices=DOMAINS, help=DOMAIN_HELP)
    parser.addoption(
        "--profile", default=DEFAULT_PROFILE, type=choice(ENGINE_PROFILES), choices=ENGINE_PROFILES,
        help=f"{PROFILE_HELP}: padding floor, live-prefix page rows, page_table_1=None, index_kpool",
    )
    parser.addoption(
        "--test-timeout", type=float, metavar="S",
        help=f"end the run, printing every stack, if one test runs longer than S seconds (a hang); default {GPU_TEST_TIMEOUT_S} "
        "on a GPU, none on the CPU; 0: none",
    )
    parser.addoption(
        "--require", type=rows, metavar="ROW,...",
        help=f"{REQUIRE_HELP}; a failure of any other row is reported as xfail with its reason",
    )


def _variant_options(config) -> tuple[str, str, str, str]:
    """(spec, convention, forward mode, engine profile) of the variant under test."""
    spec = config.getoption("--variant")
    try:
        convention, mode = implied_options(spec, config.getoption("--convention"), config.getoption("--forward-mode"))
    except BadVariant as error:
        raise pytest.UsageError(str(error)) from error
    return spec or SHIPPED_KERNELS[mode], convention, mode, config.getoption("--profile")


def _judged_options(config) -> dict[str, tuple[str, str, str, str]]:
    """Forward mode -> (spec, convention, mode, profile) of what the contract tests judge: the one
    variant named (by --variant, --forward-mode or a convention's mode), else every mode's shipped
    kernel."""
    named = any(config.getoption(option) for option in ("--variant", "--forward-mode")) or config.getoption("--convention") != "contract"
    if named:
        return {config.variant_options[2]: config.variant_options}
    return {mode: (SHIPPED_KERNELS[mode], "contract", mode, config.getoption("--profile")) for mode in FORWARD_MODES}


def pytest_configure(config):
    config.addinivalue_line("markers", "family(name): the property family (properties.gate_rows.ROWS) a test checks")
    config.addinivalue_line("markers", "forward_mode(name, ...): a test of these forward modes' variants alone")
    config.variant_options = _variant_options(config)
    config.judged_options = _judged_options(config)
    config.required_families = config.getoption("--require") or default_required(DEVICE.type == "cuda")


# A test still running after this long on a GPU is hung: a CUDA hang cannot be interrupted in the
# process, so the process ends, printing every thread's stack; pytest-xdist reports that worker's
# test as failed and goes on with a fresh worker, and a plain run fails rather than stalls CI.
GPU_TEST_TIMEOUT_S = 900


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    timeout = item.config.getoption("--test-timeout")
    if timeout is None:
        timeout = GPU_TEST_TIMEOUT_S if DEVICE.type == "cuda" else 0
    if timeout > 0:
        faulthandler.dump_traceback_later(timeout, exit=True)
    try:
        yield
    finally:
        if timeout > 0:
            faulthandler.cancel_dump_traceback_later()


def pytest_report_header(config):
    judged = "; ".join(f"{spec} ({mode}, convention {convention})" for spec, convention, mode, _ in config.judged_options.values())
    return f"under test: {judged}; profile {config.getoption('--profile')}; domain {config.getoption('--domain')}; device: {DEVICE}; required: {', '.join(config.required_families)}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failure of a family outside --require is still run and shown, as xfail with its reason."""
    outcome = yield
    report = outcome.get_result()
    marker = item.get_closest_marker("family")
    if marker is None or report.when != "call" or not report.failed:
        return
    family = marker.args[0]
    if family not in item.config.required_families:
        reason = str(call.excinfo.value).strip().splitlines()[0] if call.excinfo else ""
        report.outcome = "skipped"
        report.wasxfail = f"{family} is not required (--require): {reason}"


@pytest.fixture(scope="session")
def device():
    return DEVICE


@pytest.fixture(params=["compiled", "attributes"])
def guard_form(request, monkeypatch):
    """The plan caches' guard on tensor metadata (kernel._tensor_guard) in each of its forms: PyTorch's
    compiled check, and the attributes read from Python that a PyTorch without it gets."""
    if request.param == "attributes":
        from kernel import _tensor_guard

        monkeypatch.setattr(_tensor_guard, "_TensorGuards", None)
    return request.param


@pytest.fixture(scope="session")
def variant(request):
    try:
        return load_variant(*request.config.variant_options)
    except BadVariant as error:
        pytest.exit(str(error), returncode=2)


@pytest.fixture(scope="session")
def judged(request):
    """Forward mode -> the Variant its contract tests judge."""
    try:
        return {mode: load_variant(*options) for mode, options in request.config.judged_options.items()}
    except BadVariant as error:
        pytest.exit(str(error), returncode=2)


@pytest.fixture(scope="session")
def domain(request):
    return request.config.getoption("--domain")


def pytest_collection_modifyitems(config, items):
    """A test of a mode (its `mode` parameter) that the variant does not declare, or of another
    forward mode's variants (its `forward_mode` marker), skips at setup with the reason alone: skipped
    inside a Hypothesis test, an explicit example would print its whole case with the reason, once
    per law. A variant that does not load is reported by its fixture."""
    try:
        judged = {mode: load_variant(*options) for mode, options in config.judged_options.items()}
        primary = load_variant(*config.variant_options)
    except BadVariant:
        return
    domain = config.getoption("--domain")
    for item in items:
        only = item.get_closest_marker("forward_mode")
        if only is not None and not any(mode in judged for mode in only.args):
            item.add_marker(pytest.mark.skip(reason=f"a test of {', '.join(only.args)} variants; this run judges {', '.join(judged)}"))
            continue
        variant = judged[only.args[0]] if only is not None else primary
        mode = getattr(item, "callspec", None) and item.callspec.params.get("mode")
        # A test of launch forms taken together names them all; each must be declared.
        for one in (mode if isinstance(mode, tuple) else (mode,) if mode else ()):
            if in_launch_form(variant, one, domain) is None:
                item.add_marker(pytest.mark.skip(reason=f"{variant.name} does not declare the {one} mode"))
                break
