"""Approvals survive MLflow and Redis outages; the relay applies them afterwards."""

import time
import uuid
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from mlflow import MlflowClient
from pytest_django import DjangoCaptureOnCommitCallbacks, Settings

from governance import apply, celery_app, workflow
from governance.models import ApplyOutbox, LedgerEntry, TransitionRequest
from tests.support.broker_outage import dead_broker
from tests.support.celery_worker import CeleryWorker
from tests.support.mirror_rows import make_source, register_in_mlflow
from tests.support.mlflow_server import MlflowServer
from tests.support.personas import DANA, OLIVIA, PASSWORD, make_user

pytestmark = [
    pytest.mark.usefixtures("fast_password_hasher"),
    pytest.mark.filterwarnings("ignore:.*transition_model_version_stage.*:FutureWarning"),
]


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}", pytrace=False)


def _approve(dana: User, olivia: User, version_pk: int, target: str) -> TransitionRequest:
    from governance.models import ModelVersion

    version = ModelVersion.objects.get(pk=version_pk)
    request = workflow.request_transition(dana, version, "stage", target, "lift")
    workflow.decide(olivia, request.pk, "approved", "checked", PASSWORD)
    request.refresh_from_db()
    return request


@pytest.mark.django_db
def test_approvals_made_while_mlflow_is_down_are_applied_once_it_is_back(
    fresh_mlflow_server: MlflowServer,
    settings: Settings,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    settings.APPLY_RETRY_BASE_SECONDS = 0
    server = fresh_mlflow_server
    name = f"outage-{uuid.uuid4().hex[:8]}"
    source = make_source("outage", server.uri)
    [version] = register_in_mlflow(server.uri, source, name)
    dana, olivia = make_user(DANA), make_user(OLIVIA)
    server.stop()

    # The apply task runs eagerly once the approval commits, and fails transiently.
    with django_capture_on_commit_callbacks(execute=True):
        request = _approve(dana, olivia, version.pk, "Production")

    assert request.status == "approved"
    outbox = ApplyOutbox.objects.get(request=request)
    assert (outbox.status, outbox.attempts) == ("pending", 1)
    assert outbox.last_error
    assert not LedgerEntry.objects.filter(action="request.applied").exists()

    server.start()
    assert apply.relay_outbox() == 1

    outbox.refresh_from_db()
    assert (outbox.status, outbox.attempts) == ("done", 2)
    client = MlflowClient(tracking_uri=server.uri, registry_uri=server.uri)
    assert client.get_model_version(name, "1").current_stage == "Production"
    [applied] = LedgerEntry.objects.filter(action="request.applied")
    assert applied.details["attempts"] == 2


@pytest.mark.django_db(transaction=True)
def test_approvals_made_while_redis_is_down_are_applied_through_the_relay(
    postgres_required: None, mlflow_server: MlflowServer, celery_worker: CeleryWorker
) -> None:
    name = f"broker-{uuid.uuid4().hex[:8]}"
    source = make_source(f"s-{uuid.uuid4().hex[:6]}", mlflow_server.uri)
    [version] = register_in_mlflow(mlflow_server.uri, source, name)
    dana, olivia = make_user(DANA), make_user(OLIVIA)

    with dead_broker(celery_app):
        request = _approve(dana, olivia, version.pk, "Staging")

    assert request.status == "approved"
    outbox = ApplyOutbox.objects.get(request=request)
    assert (outbox.status, outbox.last_dispatched_at) == ("pending", None)

    # Redis is back (the fixture's broker): the relay sends, the real worker applies.
    assert apply.relay_outbox() == 1
    _wait(
        lambda: ApplyOutbox.objects.get(pk=outbox.pk).status == "done",
        timeout=90,
        what="the worker to apply the relayed change",
    )

    client = MlflowClient(tracking_uri=mlflow_server.uri, registry_uri=mlflow_server.uri)
    assert client.get_model_version(name, "1").current_stage == "Staging"
    assert LedgerEntry.objects.filter(action="request.applied").count() == 1
    assert TransitionRequest.objects.get(pk=request.pk).status == "applied"
