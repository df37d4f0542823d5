"""The Redis server of this machine, for the tests of events relayed between processes.

Under ``CI=true`` an unreachable Redis fails the run instead of skipping its tests, as
PostgreSQL does (``tests/fixtures/db.py``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Generator

import pytest
import redis

REDIS_URL = os.environ.get("DATAMILL_TEST_REDIS", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def redis_ready() -> None:
    try:
        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3) as client:
            client.ping()
            return
    except redis.RedisError as error:
        problem = str(error)
    if os.environ.get("CI") == "true":
        pytest.fail(f"Redis is required under CI=true and is not reachable: {problem}")
    pytest.skip(f"Redis not reachable: {problem}")


@pytest.fixture
def redis_url(redis_ready: None) -> str:
    return REDIS_URL


@pytest.fixture
def channel() -> str:
    """A channel for this test alone: pub/sub channels are shared by every Redis database."""
    return f"datamill:test:{uuid.uuid4().hex}"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test, so that a fixture can print a server's log when
    the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
