"""Fixtures live in ``tests/fixtures/``, one module per concern."""

from __future__ import annotations

from collections.abc import Generator

import pytest

pytest_plugins = [
    "tests.fixtures.db",
    "tests.fixtures.users",
    "tests.fixtures.datasets",
    "tests.fixtures.pipelines",
    "tests.fixtures.runs",
]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test (``rep_call``...), so fixtures can tell a failure."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
