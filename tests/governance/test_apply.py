"""Applying approved transitions to a real MLflow server through the outbox."""

import sqlite3
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from mlflow import MlflowClient
from pytest_django import Settings

from governance import apply, tasks, workflow
from governance.models import (
    ApplyOutbox,
    LedgerEntry,
    MlflowSource,
    ModelVersion,
    TransitionRequest,
)
from tests.support.mirror_rows import make_source, make_version, register_in_mlflow
from tests.support.mlflow_server import MlflowServer
from tests.support.personas import ALL, PASSWORD, make_user
from tests.support.services import free_port

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("fast_password_hasher"),
    # Stages are deprecated in MLflow but still what regulated users promote with.
    pytest.mark.filterwarnings("ignore:.*transition_model_version_stage.*:FutureWarning"),
]


@pytest.fixture
def users() -> dict[str, User]:
    return {persona.username: make_user(persona) for persona in ALL}


@pytest.fixture
def source(mlflow_server: MlflowServer) -> MlflowSource:
    return make_source("local", mlflow_server.uri)


@pytest.fixture
def model_name() -> str:
    return f"churn-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def client(mlflow_server: MlflowServer) -> MlflowClient:
    return MlflowClient(tracking_uri=mlflow_server.uri, registry_uri=mlflow_server.uri)


def _approved(users: dict[str, User], version: ModelVersion, kind: str, target: str) -> ApplyOutbox:
    request = workflow.request_transition(users["dana"], version, kind, target, "lift")
    workflow.decide(users["olivia"], request.pk, "approved", "checked", PASSWORD)
    return ApplyOutbox.objects.get(request=request)


def _applied_entries() -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(action="request.applied"))


def test_it_transitions_the_stage_and_archives_the_previous_holder(
    users: dict[str, User], source: MlflowSource, model_name: str, client: MlflowClient
) -> None:
    first, second = register_in_mlflow(source.tracking_uri, source, model_name, 2)
    client.transition_model_version_stage(model_name, "1", "Production")
    ModelVersion.objects.filter(pk=first.pk).update(stage="Production")
    outbox = _approved(users, second, "stage", "Production")

    outcome = apply.apply_outbox(outbox.pk)

    assert outcome.status == "done"
    assert client.get_model_version(model_name, "2").current_stage == "Production"
    assert client.get_model_version(model_name, "1").current_stage == "Archived"
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.stage, second.stage) == ("Archived", "Production")
    outbox.refresh_from_db()
    assert (outbox.status, outbox.attempts) == ("done", 1)
    request = outbox.request
    request.refresh_from_db()
    assert request.status == "applied"
    assert request.applied_at is not None
    [entry] = _applied_entries()
    assert (entry.precision, entry.model_name, entry.version, entry.target) == (
        "exact",
        model_name,
        2,
        "Production",
    )
    assert (entry.actor_id, entry.actor_role) == (None, "system")
    assert (entry.before, entry.after) == ({"stage": "None"}, {"stage": "Production"})
    assert entry.details == {
        "target_kind": "stage",
        "request_id": request.pk,
        "approvers": ["Olivia Pope"],
        "requested_by": "Dana Scully",
        "archived_versions": [1],
        "already_in_target": False,
        "attempts": 1,
    }


def test_it_sets_an_alias_and_updates_the_mirror(
    users: dict[str, User], source: MlflowSource, model_name: str, client: MlflowClient
) -> None:
    first, second = register_in_mlflow(source.tracking_uri, source, model_name, 2)
    client.set_registered_model_alias(model_name, "champion", "1")
    model = first.registered_model
    model.aliases = {"champion": 1}
    model.save()
    outbox = _approved(users, second, "alias", "champion")

    assert apply.apply_outbox(outbox.pk).status == "done"

    assert client.get_registered_model(model_name).aliases == {"champion": "2"}
    model.refresh_from_db()
    assert model.aliases == {"champion": 2}
    [entry] = _applied_entries()
    assert (entry.before, entry.after) == ({"version": 1}, {"version": 2})


def test_it_is_idempotent(
    users: dict[str, User], source: MlflowSource, model_name: str, client: MlflowClient
) -> None:
    [version] = register_in_mlflow(source.tracking_uri, source, model_name)
    outbox = _approved(users, version, "alias", "challenger")
    client.set_registered_model_alias(model_name, "challenger", "1")

    first = apply.apply_outbox(outbox.pk)
    second = apply.apply_outbox(outbox.pk)

    assert (first.status, second.status) == ("done", "done")
    [entry] = _applied_entries()
    assert entry.details["already_in_target"] is True


def test_it_lapses_when_mlflow_reports_a_different_source(
    users: dict[str, User],
    source: MlflowSource,
    model_name: str,
    client: MlflowClient,
    mlflow_server: MlflowServer,
) -> None:
    [version] = register_in_mlflow(source.tracking_uri, source, model_name)
    outbox = _approved(users, version, "stage", "Production")
    # MLflow's API cannot change a version's source; its store can, as an
    # operator with database access could.
    with sqlite3.connect(mlflow_server.root / "mlflow.db") as store:
        store.execute(
            "UPDATE model_versions SET source = ? WHERE name = ? AND version = 1",
            ("s3://models/other", model_name),
        )

    outcome = apply.apply_outbox(outbox.pk)

    assert outcome.status == "stale"
    assert outcome.detail == (
        "the version changed since approval: mlflow source_uri, decision binding"
    )
    assert client.get_model_version(model_name, "1").current_stage == "None"
    request = TransitionRequest.objects.get(pk=outbox.request_id)
    assert request.status == "stale"
    assert request.failure_reason == outcome.detail
    assert not _applied_entries()
    entry = LedgerEntry.objects.last()
    assert entry is not None
    assert (entry.action, entry.reason, entry.details) == (
        "request.stale",
        outcome.detail,
        {"request_id": request.pk, "changed": ["mlflow source_uri", "decision binding"]},
    )


def test_it_lapses_when_the_mirrored_signature_changed(
    users: dict[str, User], source: MlflowSource, model_name: str, client: MlflowClient
) -> None:
    [version] = register_in_mlflow(source.tracking_uri, source, model_name)
    outbox = _approved(users, version, "alias", "champion")
    ModelVersion.objects.filter(pk=version.pk).update(signature={"inputs": []})

    outcome = apply.apply_outbox(outbox.pk)

    assert outcome.detail == "the version changed since approval: mirror signature_hash"
    assert client.get_registered_model(model_name).aliases == {}


def test_it_retries_with_bounded_backoff_while_mlflow_is_unreachable(
    users: dict[str, User], model_name: str, settings: Settings
) -> None:
    settings.APPLY_RETRY_BASE_SECONDS = 10
    settings.APPLY_RETRY_MAX_SECONDS = 15
    dead = make_source("dead", f"http://127.0.0.1:{free_port()}")
    version = make_version(dead, model_name)
    outbox = _approved(users, version, "stage", "Staging")
    entries_before = LedgerEntry.objects.count()

    for attempt in (1, 2, 3):
        started = timezone.now()
        outcome = apply.apply_outbox(outbox.pk)
        assert outcome.status == "pending"
        wait = apply.backoff(attempt)
        assert started + wait <= outcome.retry_at <= timezone.now() + wait

    assert [apply.backoff(n).total_seconds() for n in (1, 2, 3)] == [10, 15, 15]
    outbox.refresh_from_db()
    assert outbox.attempts == 3
    assert outbox.last_error
    assert LedgerEntry.objects.count() == entries_before
    assert TransitionRequest.objects.get(pk=outbox.request_id).status == "approved"


def test_backoff_doubles_up_to_the_cap(settings: Settings) -> None:
    settings.APPLY_RETRY_BASE_SECONDS = 5
    settings.APPLY_RETRY_MAX_SECONDS = 60

    assert [apply.backoff(n).total_seconds() for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]


def test_it_marks_a_refused_change_as_failed(
    users: dict[str, User], source: MlflowSource, model_name: str, settings: Settings
) -> None:
    # "latest" is reserved by MLflow, which refuses it for good.
    settings.GOVERNED_ALIASES = ["latest"]
    [version] = register_in_mlflow(source.tracking_uri, source, model_name)
    outbox = _approved(users, version, "alias", "latest")

    outcome = apply.apply_outbox(outbox.pk)

    assert outcome.status == "failed"
    assert outcome.detail.startswith("MLflow refused the change: ")
    request = TransitionRequest.objects.get(pk=outbox.request_id)
    assert (request.status, request.failure_reason) == ("failed", outcome.detail)
    entry = LedgerEntry.objects.last()
    assert entry is not None
    assert (entry.action, entry.after) == ("request.failed", {"status": "failed"})


def test_the_relay_resends_rows_never_picked_up_and_skips_waiting_ones(
    users: dict[str, User], source: MlflowSource, model_name: str, client: MlflowClient
) -> None:
    first, second = register_in_mlflow(source.tracking_uri, source, model_name, 2)
    never_sent = _approved(users, first, "alias", "champion")
    waiting = _approved(users, second, "alias", "challenger")
    ApplyOutbox.objects.filter(pk=waiting.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5)
    )

    # Tests run Celery eagerly, so the relay applies in this process.
    assert apply.relay_outbox() == 1

    never_sent.refresh_from_db()
    waiting.refresh_from_db()
    assert (never_sent.status, waiting.status) == ("done", "pending")
    assert client.get_registered_model(model_name).aliases == {"champion": "1"}


def test_the_tasks_keep_their_stable_names_and_the_relay_task_applies(
    users: dict[str, User], source: MlflowSource, model_name: str, client: MlflowClient
) -> None:
    [version] = register_in_mlflow(source.tracking_uri, source, model_name)
    outbox = _approved(users, version, "alias", "champion")

    tasks.relay_outbox.delay()

    assert (tasks.apply_transition.name, tasks.relay_outbox.name) == (
        "governance.apply_transition",
        "governance.relay_outbox",
    )
    outbox.refresh_from_db()
    assert outbox.status == "done"
    assert client.get_registered_model(model_name).aliases == {"champion": "1"}
