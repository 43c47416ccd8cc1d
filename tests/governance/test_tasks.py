"""Celery sync tasks, in-process and through a real worker on Redis and PostgreSQL."""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Task
from mlflow import MlflowClient

from governance import celery_app, tasks
from governance.models import MlflowSource, ModelVersion, RegisteredModel, Run, SyncRun
from tests.support.celery_worker import (
    CeleryWorker,
    start_worker,
    wait_for,
)
from tests.support.gated_proxy import GatedProxy
from tests.support.mlflow_server import MlflowServer
from tests.support.registered_versions import register_version
from tests.support.services import free_port

MODEL = "churn-predictor"


@pytest.fixture(scope="module")
def tracking_server() -> Iterator[MlflowServer]:
    """A server of this module's own, holding one model with two versions."""
    server = MlflowServer()
    server.start()
    client = MlflowClient(server.uri)
    experiment_id = client.create_experiment("churn")
    client.create_registered_model(MODEL)
    register_version(client, MODEL, experiment_id)
    register_version(client, MODEL, experiment_id)
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def celery_worker_process(django_db_setup: None) -> Iterator[CeleryWorker]:
    """Two threads, so two sync tasks of one source can overlap."""
    with start_worker(pool="threads", concurrency=2) as worker:
        yield worker


@pytest.fixture
def eager_celery() -> Iterator[None]:
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = saved


def new_source(uri: str) -> MlflowSource:
    return MlflowSource.objects.create(name=f"src-{uuid.uuid4().hex[:8]}", tracking_uri=uri)


def synced(source: MlflowSource) -> bool:
    source.refresh_from_db()
    return source.last_success_at is not None or bool(source.last_error)


def test_the_tasks_have_stable_names_and_are_acknowledged_late() -> None:
    names: dict[str, Task[Any, Any]] = {
        "governance.sync_source": tasks.sync_source,
        "governance.sync_model": tasks.sync_model,
        "governance.sync_all_sources": tasks.sync_all_sources,
    }

    for name, task in names.items():
        assert task.name == name
        assert task.acks_late is True
        assert celery_app.tasks[name].name == name


def test_the_beat_schedule_names_the_sync_task() -> None:
    schedule = celery_app.conf.beat_schedule

    assert schedule["sync-incremental"]["task"] == tasks.sync_all_sources.name
    assert schedule["sync-incremental"]["kwargs"] == {"full": False}
    assert schedule["sync-full"]["kwargs"] == {"full": True}


@pytest.mark.django_db
def test_sync_all_sources_syncs_every_enabled_source(
    tracking_server: MlflowServer, eager_celery: None
) -> None:
    enabled = new_source(tracking_server.uri)
    disabled = new_source(tracking_server.uri)
    MlflowSource.objects.filter(pk=disabled.pk).update(enabled=False)

    tasks.sync_all_sources.delay(full=True)

    enabled.refresh_from_db()
    disabled.refresh_from_db()
    assert enabled.last_full_success_at is not None
    assert enabled.last_error == ""
    assert disabled.last_started_at is None
    assert ModelVersion.objects.filter(registered_model__source=enabled).count() == 2


@pytest.mark.django_db
def test_sync_model_mirrors_only_the_named_model(
    tracking_server: MlflowServer, eager_celery: None
) -> None:
    source = new_source(tracking_server.uri)

    outcome = tasks.sync_model.delay(source.id, MODEL).get()

    assert outcome["skipped"] is False
    assert outcome["error"] == ""
    assert list(RegisteredModel.objects.filter(source=source).values_list("name", flat=True)) == [
        MODEL
    ]
    assert SyncRun.objects.get(source=source).kind == SyncRun.Kind.MODEL


@pytest.mark.django_db
def test_a_failed_sync_is_recorded_without_failing_the_task(eager_celery: None) -> None:
    source = new_source(f"http://127.0.0.1:{free_port()}")

    outcome = tasks.sync_source.delay(source.id).get()

    source.refresh_from_db()
    assert outcome["error"].startswith(f"sync of source {source.name} failed: ")
    assert source.last_error != ""
    assert source.last_success_at is None


@pytest.mark.django_db(transaction=True)
def test_a_sync_enqueued_through_a_real_worker_mirrors_the_server(
    postgres_required: None, tracking_server: MlflowServer, celery_worker: CeleryWorker
) -> None:
    source = new_source(tracking_server.uri)

    tasks.sync_source.delay(source.id, full=True)

    wait_for(lambda: synced(source), timeout=90, what="the worker to finish the sync")
    assert source.last_error == ""
    model = RegisteredModel.objects.get(source=source, name=MODEL)
    assert sorted(model.versions.values_list("version", flat=True)) == [1, 2]
    assert Run.objects.filter(source=source).count() == 2
    assert celery_worker.alive()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_syncs_of_one_source_do_the_work_once(
    postgres_required: None, tracking_server: MlflowServer, celery_worker: CeleryWorker
) -> None:
    with GatedProxy(tracking_server.uri) as proxy:
        source = new_source(proxy.uri)

        tasks.sync_source.delay(source.id, full=True)
        tasks.sync_source.delay(source.id, full=True)

        # The first sync holds the lease while its first MLflow call waits at the gate.
        wait_for(proxy.arrived.is_set, timeout=60, what="a sync to call MLflow")
        skipped = f"sync of source {source.id} skipped"
        wait_for(lambda: skipped in celery_worker.log_text(), timeout=60, what="the second to skip")
        proxy.gate.set()
        wait_for(lambda: synced(source), timeout=90, what="the first sync to finish")

    assert source.last_error == ""
    assert SyncRun.objects.filter(source=source).count() == 1
    assert celery_worker.log_text().count(skipped) == 1
    assert ModelVersion.objects.filter(registered_model__source=source).count() == 2
