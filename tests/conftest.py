"""Fixtures live in ``tests/fixtures/``, one module per concern."""

pytest_plugins = [
    "tests.fixtures.db",
    "tests.fixtures.users",
    "tests.fixtures.datasets",
    "tests.fixtures.pipelines",
    "tests.fixtures.runs",
]
