"""Hypothesis profiles: `ci` gates merges, `dev` is the default at a desk, `fuzz` hunts for long.

Hypothesis' example database can be shared, so that every failure found anywhere is replayed first
everywhere: HYPOTHESIS_DATABASE_URL=redis://HOST:PORT/N names a Redis server that runners on many
machines reach; HYPOTHESIS_DATABASE_DIR a directory that CI and developers share (a checkout of it, a
mounted volume). Without either it is the usual .hypothesis/examples of the working directory.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase

SLOW_DATA = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def example_database(location: str | None = None, namespace: str = "") -> ExampleDatabase:
    """The example database at `location` (a Redis URL or a directory; by default the one the
    environment names). Within `namespace` only what was stored under the same namespace is
    replayed, and so only that is deleted when it no longer fails."""
    location = location or os.environ.get("HYPOTHESIS_DATABASE_URL") or os.environ.get("HYPOTHESIS_DATABASE_DIR")
    if location and location.startswith(REDIS_SCHEMES):
        from hypothesis.extra.redis import RedisExampleDatabase
        from redis import Redis

        return RedisExampleDatabase(Redis.from_url(location), key_prefix=f"hypothesis-example:{namespace}:".encode())
    return DirectoryBasedExampleDatabase(os.path.join(location or ".hypothesis/examples", namespace))


# Generated cases a law under the profiles that search (and keep what they find in the database).
SEARCHING_PROFILES = {"dev": 60, "fuzz": 5_000}
HYPOTHESIS_PROFILES = ("ci", *SEARCHING_PROFILES)


def register_profiles() -> None:
    settings.register_profile(
        "ci",
        # Six generated cases a law on top of every pinned edge example: the interpreter costs a
        # CPU runner about a second a case, and the GPU tier's `dev` profile draws ten times more.
        max_examples=6,
        derandomize=True,
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=SLOW_DATA,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
    )
    for name, max_examples in SEARCHING_PROFILES.items():
        settings.register_profile(
            name,
            max_examples=max_examples,
            deadline=None,
            database=example_database(),
            print_blob=True,
            suppress_health_check=SLOW_DATA,
        )
    settings.load_profile(default_profile())


# What Hypothesis itself reads as "running on CI" (its own `ci` profile is chosen on these).
CI_VARIABLES = ("CI", "TF_BUILD", "BUILDKITE", "CIRCLECI", "CODEBUILD_BUILD_ID", "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "TRAVIS")


def default_profile() -> str:
    """HYPOTHESIS_PROFILE when set; else `ci` on CI and wherever no GPU is seen, so the README's test
    command, typed as written on a CPU machine, runs the lean tier (Triton's interpreter costs
    seconds a case); else `dev`."""
    if os.environ.get("HYPOTHESIS_PROFILE"):
        return os.environ["HYPOTHESIS_PROFILE"]
    if any(os.environ.get(name) for name in CI_VARIABLES):
        return "ci"
    import torch

    return "dev" if torch.cuda.is_available() else "ci"
