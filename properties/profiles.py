"""Hypothesis profiles: `ci` gates merges, `dev` is the default at a desk, `fuzz` hunts for long.

HYPOTHESIS_DATABASE_DIR names a directory of Hypothesis' example database that CI and developers
can share (a checkout of it, a mounted volume): every failure found anywhere is replayed first
everywhere. Without it the database is the usual .hypothesis/examples of the working directory.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings
from hypothesis.database import DirectoryBasedExampleDatabase

SLOW_DATA = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]


def example_database():
    return DirectoryBasedExampleDatabase(os.environ.get("HYPOTHESIS_DATABASE_DIR", ".hypothesis/examples"))


def register_profiles() -> None:
    settings.register_profile(
        "ci",
        max_examples=12,
        derandomize=True,
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=SLOW_DATA,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
    )
    for name, max_examples in (("dev", 60), ("fuzz", 5_000)):
        settings.register_profile(
            name,
            max_examples=max_examples,
            deadline=None,
            database=example_database(),
            print_blob=True,
            suppress_health_check=SLOW_DATA,
        )
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
