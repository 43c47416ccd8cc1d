"""Shared fixtures: a real MLflow server, service checks, named personas."""

import os
from collections.abc import Iterator

import pytest

# Registers the real Celery worker fixtures, celery_worker and celery_worker_process.
from tests.support.celery_worker import (  # noqa: F401
    celery_worker_fixture,
    celery_worker_process_fixture,
)
from tests.support.mlflow_server import MlflowServer
from tests.support.services import require


@pytest.fixture(scope="session", autouse=True)
def _flush_past_ledger_triggers() -> Iterator[None]:
    """Let pytest-django's flush empty the append-only ledger table on PostgreSQL.

    Triggers refuse TRUNCATE of the ledger (migration 0006), and transactional tests
    reset the database with a TRUNCATE. The flush alone runs with
    ``session_replication_role = replica``, under which ordinary triggers do not fire;
    only a superuser (the test database user) may set it, never the application role.
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self: DatabaseOperations, sql_list: list[str]) -> None:
        original(self, ["SET LOCAL session_replication_role = replica", *sql_list])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "execute_sql_flush", execute_sql_flush)
        yield


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
