"""Suite-wide wiring: the device, the Hypothesis profiles, and `--variant MODULE:CALLABLE`.

Without a GPU the tensors live on the CPU and Triton runs in its interpreter; the switch must be
made before anything imports Triton, which is why it happens here, at collection time.
"""

from __future__ import annotations

import pytest

from properties.harness import SHIPPED_KERNEL, load_variant, prepare_runtime
from properties.profiles import register_profiles

DEVICE = prepare_runtime()
register_profiles()


def pytest_addoption(parser):
    parser.addoption(
        "--variant",
        default=SHIPPED_KERNEL,
        metavar="MODULE:CALLABLE",
        help="the implementation of the contract that every contract property judges "
        f"(default: the shipped kernel, {SHIPPED_KERNEL}); it must be importable from sys.path",
    )


def pytest_report_header(config):
    return f"contract variant under test: {config.getoption('--variant')}; device: {DEVICE}"


@pytest.fixture(scope="session")
def device():
    return DEVICE


@pytest.fixture(scope="session")
def variant(request):
    return load_variant(request.config.getoption("--variant"))
