"""Simulate a Redis outage for the tasks this test process sends."""

from collections.abc import Iterator
from contextlib import contextmanager

from celery import Celery

from tests.support.services import free_port


@contextmanager
def dead_broker(app: Celery) -> Iterator[None]:
    """Send this process's tasks to a Redis that is not there, as during an outage."""
    keys = ("task_always_eager", "broker_url")
    saved = {key: app.conf[key] for key in keys}
    app.conf.update(task_always_eager=False, broker_url=f"redis://127.0.0.1:{free_port()}/0")
    _reconnect(app)
    try:
        yield
    finally:
        app.conf.update(saved)
        _reconnect(app)


def _reconnect(app: Celery) -> None:
    # Pools are built once from the configuration; drop them to use the new one.
    app.pool.force_close_all()  # type: ignore[attr-defined]
    app._pool = None  # type: ignore[attr-defined]
    app.amqp._producer_pool = None  # type: ignore[attr-defined]
