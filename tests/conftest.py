"""Shared fixtures: a real MLflow server, service checks, named personas."""

import os
from collections.abc import Iterator

import pytest

from tests.support.mlflow_server import MlflowServer
from tests.support.services import require


@pytest.fixture(scope="session")
def mlflow_server() -> Iterator[MlflowServer]:
    """One MLflow server shared by the session; tests must use unique names in it."""
    server = MlflowServer()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def fresh_mlflow_server() -> Iterator[MlflowServer]:
    """A server of the test's own, for tests that stop it or need it empty."""
    server = MlflowServer()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def postgres_required() -> None:
    """Fail in CI, skip elsewhere, when the suite does not run on PostgreSQL."""
    from django.db import connection

    require(
        "PostgreSQL",
        connection.vendor == "postgresql",
        f"DATABASE_URL points at {connection.vendor}; the test command sets PostgreSQL",
    )


@pytest.fixture
def redis_url() -> str:
    """The real Redis broker's URL."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        available, detail = True, ""
    except redis.RedisError as exc:
        available, detail = False, f"{url}: {exc}"
    require("Redis", available, detail)
    return url
