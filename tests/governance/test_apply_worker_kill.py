"""A worker killed in the middle of applying: the change lands in MLflow exactly once."""

import time
import uuid

import psycopg
import pytest
from mlflow import MlflowClient
from pytest_django import Settings

from governance import apply, celery_app, workflow
from governance.models import ApplyOutbox, LedgerEntry
from tests.support.broker_outage import dead_broker
from tests.support.celery_worker import (
    broker_for,
    database_url_for_tests,
    start_worker,
    wait_for,
)
from tests.support.mirror_rows import make_source, register_in_mlflow
from tests.support.mlflow_server import MlflowServer
from tests.support.personas import DANA, OLIVIA, PASSWORD, make_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_password_hasher", "postgres_required"),
]


def test_a_worker_killed_mid_apply_leaves_one_change_and_one_applied_entry(
    mlflow_server: MlflowServer, settings: Settings
) -> None:
    settings.OUTBOX_DISPATCH_LEASE_SECONDS = 0
    name = f"kill-{uuid.uuid4().hex[:8]}"
    source = make_source(f"s-{uuid.uuid4().hex[:6]}", mlflow_server.uri)
    [version] = register_in_mlflow(mlflow_server.uri, source, name)
    client = MlflowClient(tracking_uri=mlflow_server.uri, registry_uri=mlflow_server.uri)
    request = workflow.request_transition(make_user(DANA), version, "alias", "champion", "go")
    with dead_broker(celery_app):
        workflow.decide(make_user(OLIVIA), request.pk, "approved", "ok", PASSWORD)
    outbox = ApplyOutbox.objects.get(request=request)

    # Holding the ledger head stops the worker after its MLflow write, before the
    # commit that records it: the moment a crash does the most harm.
    with psycopg.connect(database_url_for_tests()) as blocker:
        blocker.execute("SELECT seq FROM governance_ledgerhead WHERE id = 1 FOR UPDATE")
        with (
            start_worker(extra_env={"CELERY_VISIBILITY_TIMEOUT": "5"}) as worker,
            broker_for(celery_app, worker),
        ):
            assert apply.relay_outbox() == 1
            wait_for(
                lambda: client.get_registered_model(name).aliases == {"champion": "1"},
                timeout=90,
                what="the worker to write the alias",
            )
            worker.kill()
            blocker.rollback()
            assert ApplyOutbox.objects.get(pk=outbox.pk).status == "pending"

            worker.start()
            deadline = time.monotonic() + 120
            while ApplyOutbox.objects.get(pk=outbox.pk).status == "pending":
                assert time.monotonic() < deadline, "the restarted worker never applied"
                apply.relay_outbox()
                time.sleep(1)

    assert client.get_registered_model(name).aliases == {"champion": "1"}
    [applied] = LedgerEntry.objects.filter(action="request.applied")
    # The second attempt found MLflow in the target state and wrote nothing.
    assert applied.details["already_in_target"] is True
    assert ApplyOutbox.objects.get(pk=outbox.pk).status == "done"
