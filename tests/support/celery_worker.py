"""Run a real ``celery worker`` process against the test database and real Redis.

The worker runs in its own session (so it can be SIGKILLed with its children) and
reads the pytest-django test database through DATABASE_URL, so tests that use it
must commit their data: mark them ``@pytest.mark.django_db(transaction=True)``.

Each worker gets its own broker key prefix, so parallel test processes sharing one
Redis never take each other's tasks. The ``celery_worker`` fixture points the test
process at the same broker for the duration of one test and purges the queue before
and after it.

A worker killed mid-task leaves its message unacknowledged; Redis hands it out again
only after the visibility timeout. Tests that kill workers pass a short
``CELERY_VISIBILITY_TIMEOUT`` in ``extra_env`` (see ``start_worker``).
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redis
from celery import Celery

from tests.support.services import require

PROJECT_ROOT = Path(__file__).resolve().parents[2]
QUEUE = "celery"


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}", pytrace=False)


def broker_url_for_tests() -> str:
    """Return the real Redis broker's URL, failing (CI) or skipping when it is down."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        available, detail = True, ""
    except redis.RedisError as exc:
        available, detail = False, f"{url}: {exc}"
    require("Redis", available, detail)
    return url


def database_url_for_tests() -> str:
    """Return a DATABASE_URL for the test database, requiring PostgreSQL."""
    from django.db import connection

    require(
        "PostgreSQL",
        connection.vendor == "postgresql",
        f"a worker process cannot share a {connection.vendor} test database",
    )
    config = connection.settings_dict
    user = quote(str(config["USER"] or ""), safe="")
    password = quote(str(config["PASSWORD"] or ""), safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = config["HOST"] or "127.0.0.1"
    port = config["PORT"] or "5432"
    return f"postgres://{credentials}{host}:{port}/{quote(str(config['NAME']), safe='')}"


@dataclass
class CeleryWorker:
    """One ``celery -A governance worker`` process; ``process`` is its Popen."""

    broker_url: str
    database_url: str
    pool: str = "solo"
    concurrency: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)
    key_prefix: str = field(default_factory=lambda: f"test-{uuid.uuid4().hex[:12]}:")
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="celery-test-")))
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def log_path(self) -> Path:
        return self.root / "worker.log"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "governance.settings",
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.broker_url,
                "CELERY_BROKER_KEY_PREFIX": self.key_prefix,
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 60.0) -> None:
        """Start the worker and wait until it consumes from the queue."""
        self.starts += 1
        node = f"test-{uuid.uuid4().hex[:8]}-{self.starts}@%h"
        marker = f"--- worker start {self.starts} ---\n"
        with self.log_path.open("a") as marker_log:
            marker_log.write(marker)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "governance",
                "worker",
                f"--pool={self.pool}",
                f"--concurrency={self.concurrency}",
                "--prefetch-multiplier=1",
                f"--queues={QUEUE}",
                f"--hostname={node}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            cwd=PROJECT_ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log_text()
            if " ready." in text[text.rindex(marker) :]:
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited early:\n{text[-3000:]}")
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"celery worker was not ready within {timeout}s:\n{self.log_text()}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the worker and its children, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def stop(self, timeout: float = 20.0) -> None:
        """Ask for a warm shutdown; kill the worker if it does not finish in time."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.broker_url, socket_connect_timeout=2)

    def queued(self) -> int:
        """Count messages waiting in the queue (not those a worker holds)."""
        return int(self.redis().llen(f"{self.key_prefix}{QUEUE}"))

    def purge(self) -> None:
        """Drop waiting and unacknowledged messages of this worker's broker keys."""
        client = self.redis()
        keys = [
            key
            for pattern in (f"{self.key_prefix}{QUEUE}*", f"{self.key_prefix}unacked*")
            for key in client.scan_iter(match=pattern)
        ]
        if keys:
            client.delete(*keys)

    def cleanup(self) -> None:
        """Stop the worker and remove every broker key and file it used."""
        self.stop()
        client = self.redis()
        keys = list(client.scan_iter(match=f"{self.key_prefix}*"))
        if keys:
            client.delete(*keys)
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def start_worker(
    *, pool: str = "solo", concurrency: int = 1, extra_env: dict[str, str] | None = None
) -> Iterator[CeleryWorker]:
    """Run a worker on the test database and the real broker for the block's duration."""
    worker = CeleryWorker(
        broker_url=broker_url_for_tests(),
        database_url=database_url_for_tests(),
        pool=pool,
        concurrency=concurrency,
        extra_env=dict(extra_env or {}),
    )
    worker.purge()
    worker.start()
    try:
        yield worker
    finally:
        worker.cleanup()


@contextmanager
def broker_for(app: Celery, worker: CeleryWorker) -> Iterator[None]:
    """Send this process's tasks through the worker's real broker, not eagerly."""
    keys = ("task_always_eager", "broker_url", "broker_transport_options")
    saved: dict[str, Any] = {key: app.conf[key] for key in keys}
    options = dict(saved["broker_transport_options"] or {})
    options["global_keyprefix"] = worker.key_prefix
    app.conf.update(
        task_always_eager=False, broker_url=worker.broker_url, broker_transport_options=options
    )
    _forget_connections(app)
    try:
        yield
    finally:
        app.conf.update(saved)
        _forget_connections(app)


def _forget_connections(app: Celery) -> None:
    # The app keeps its connection and producer pools, built from the configuration
    # in force when first used; dropping them makes the next send use the current
    # one. Kombu keeps one pool per broker URL, so going back reuses the old pool.
    app._pool = None  # type: ignore[attr-defined]
    app.amqp._producer_pool = None  # type: ignore[attr-defined]


@pytest.fixture(scope="module", name="celery_worker_process")
def celery_worker_process_fixture(django_db_setup: None) -> Iterator[CeleryWorker]:
    """A solo-pool worker shared by the tests of one module."""
    with start_worker() as worker:
        yield worker


@pytest.fixture(name="celery_worker")
def celery_worker_fixture(celery_worker_process: CeleryWorker) -> Iterator[CeleryWorker]:
    """The module's worker, running, with this process sending tasks to it."""
    from governance import celery_app

    worker = celery_worker_process
    if not worker.alive():
        worker.start()
    worker.purge()
    with broker_for(celery_app, worker):
        yield worker
    worker.purge()
