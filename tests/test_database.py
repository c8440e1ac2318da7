"""A campaign spread over machines shares what it finds through a Redis example database: a failure
one runner found is the first thing the next one replays, and lands in its corpus."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

from tests.test_triage_tools import properties as command_line

# Wrong only on the padded pool rows that generated cases have and no edge example has.
PACKED_ROWS = "tests.planted.req_to_token_rows_packed:fill_draft_extend_metadata"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    pytest.importorskip("redis", reason="the redis Python package is not installed (the test extra has it)")
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("no redis-server on PATH (apt-get install redis-server)")
    from redis import Redis

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path_factory.mktemp("redis"))],
        stdout=subprocess.DEVNULL,
    )
    client = Redis(port=port)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.ping()
            break
        except Exception:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"redis-server on port {port} did not start")
            time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=30)


def fuzz(*argv: str, env: dict[str, str] | None = None):
    return command_line("campaign", "--variant", PACKED_ROWS, "--laws", "differential", *argv, env=env)


def test_a_failure_found_on_one_runner_is_replayed_first_on_the_next(redis_url, tmp_path):
    # The second runner's budget, one generated case, finds nothing on its own: the proof that
    # what it finds below came from the database.
    alone = fuzz("--seed", "7", "--max-examples", "1")
    assert alone.returncode == 0, "the edge examples or seed 7's one case find the planted bug without the database:\n" + alone.stdout

    first = fuzz("--seed", "2", "--max-examples", "60", "--database", redis_url, "--corpus", str(tmp_path / "first"))
    assert first.returncode == 1, first.stdout + first.stderr
    [found] = (tmp_path / "first").glob("*.json")

    # The URL from the environment this time, as the profiles read it.
    second = fuzz(
        "--seed", "7", "--max-examples", "1", "--database", "--corpus", str(tmp_path / "second"),
        env={"HYPOTHESIS_DATABASE_URL": redis_url},
    )
    assert second.returncode == 1, second.stdout + second.stderr
    [replayed] = (tmp_path / "second").glob("*.json")
    assert replayed.name == found.name, "a reproducer's name holds a digest of its case: the second runner's is not the first's"


def test_the_profiles_use_the_database_the_environment_names(monkeypatch, tmp_path):
    pytest.importorskip("redis", reason="the redis Python package is not installed (the test extra has it)")
    from hypothesis.database import DirectoryBasedExampleDatabase
    from hypothesis.extra.redis import RedisExampleDatabase

    from properties.profiles import example_database

    monkeypatch.setenv("HYPOTHESIS_DATABASE_DIR", str(tmp_path))
    assert isinstance(example_database(), DirectoryBasedExampleDatabase)
    monkeypatch.setenv("HYPOTHESIS_DATABASE_URL", "redis://127.0.0.1:1/0")
    assert isinstance(example_database(), RedisExampleDatabase)
