"""Suite-wide wiring: the device (one GPU per xdist worker), the Hypothesis profiles, and
`--variant MODULE:CALLABLE`.

Without a GPU the tensors live on the CPU and Triton runs in its interpreter; the switch must be
made before anything imports Triton, which is why it happens here, at collection time.
"""

from __future__ import annotations

import pytest

from properties.gpus import pin_xdist_worker

# Not in a pytest_configure hook: pytest imports this module before it calls any, and
# prepare_runtime() below initialises CUDA, which reads CUDA_VISIBLE_DEVICES only then.
pin_xdist_worker()

from properties.harness import DEFAULT_DOMAIN, SHIPPED_KERNEL, BadVariant, in_mode, load_variant, prepare_runtime  # noqa: E402

DEVICE = prepare_runtime()

from properties.cases import DOMAINS  # noqa: E402
from properties.conventions import CONVENTIONS  # noqa: E402
from properties.gate import FAMILIES, default_required  # noqa: E402
from properties.profiles import register_profiles  # noqa: E402

register_profiles()


def pytest_addoption(parser):
    parser.addoption(
        "--variant",
        default=SHIPPED_KERNEL,
        metavar="SPEC",
        help="the implementation that every contract property judges, MODULE:CALLABLE or "
        f"path/to/file.py:CALLABLE (default: the shipped kernel, {SHIPPED_KERNEL})",
    )
    parser.addoption("--convention", default="contract", help=f"how the variant is called: {', '.join(CONVENTIONS)}")
    parser.addoption("--domain", default=DEFAULT_DOMAIN, choices=DOMAINS, help="sglang (slots >= 0, cu buffers zeroed) or strict")
    parser.addoption(
        "--require",
        metavar="PROP,...",
        help="the property families that must pass (default: values, laws, inputs, outside_view, state, and on a GPU "
        "no_sync); a failure of any other family is reported as xfail with its reason",
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "family(name): the property family (properties.gate.FAMILIES) a test checks")
    names = tuple(name for name in (config.getoption("--require") or "").split(",") if name)
    unknown = [name for name in names if name not in FAMILIES]
    if unknown:
        raise pytest.UsageError(f"--require: unknown property {', '.join(unknown)}; known: {', '.join(FAMILIES)}")
    config.required_families = names or default_required(DEVICE.type == "cuda")


def pytest_report_header(config):
    return (
        f"variant under test: {config.getoption('--variant')} (convention {config.getoption('--convention')}, "
        f"domain {config.getoption('--domain')}); device: {DEVICE}; required: {', '.join(config.required_families)}"
    )


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


@pytest.fixture(scope="session")
def variant(request):
    try:
        return load_variant(request.config.getoption("--variant"), request.config.getoption("--convention"))
    except BadVariant as error:
        pytest.exit(str(error), returncode=2)


@pytest.fixture(scope="session")
def domain(request):
    return request.config.getoption("--domain")


def pytest_collection_modifyitems(config, items):
    """A test of a mode (its `mode` parameter) that the variant does not declare skips at setup with
    the reason alone: skipped inside a Hypothesis test, an explicit example would print its whole
    case with the reason, once per law. A variant that does not load is reported by its fixture."""
    try:
        variant = load_variant(config.getoption("--variant"), config.getoption("--convention"))
    except BadVariant:
        return
    domain = config.getoption("--domain")
    for item in items:
        mode = getattr(item, "callspec", None) and item.callspec.params.get("mode")
        if mode and in_mode(variant, mode, domain) is None:
            item.add_marker(pytest.mark.skip(reason=f"{variant.name} does not declare the {mode} mode"))
