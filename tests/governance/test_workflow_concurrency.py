"""Concurrent decisions on one request: exactly one wins, the rest change nothing."""

import threading
import uuid
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from mlflow import MlflowClient
from pytest_django import Settings

from governance import workflow
from governance.ledger_verify import verify_ledger
from governance.models import ApplyOutbox, Decision, LedgerEntry
from tests.support.mirror_rows import make_source, register_in_mlflow
from tests.support.mlflow_server import MlflowServer
from tests.support.personas import DANA, PASSWORD, make_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_password_hasher", "postgres_required"),
    pytest.mark.filterwarnings("ignore:.*transition_model_version_stage.*:FutureWarning"),
]

CONTENDERS = 20


def test_twenty_concurrent_approvals_make_one_decision_and_one_change(
    mlflow_server: MlflowServer, settings: Settings, tmp_path: Path
) -> None:
    settings.LEDGER_SIGNING_KEY = "22" * 32
    name = f"race-{uuid.uuid4().hex[:8]}"
    source = make_source("race", mlflow_server.uri)
    [version] = register_in_mlflow(mlflow_server.uri, source, name)
    request = workflow.request_transition(make_user(DANA), version, "stage", "Production", "go")
    officers = Group.objects.get_or_create(name="governance_officer")[0]
    ids = []
    for number in range(CONTENDERS):
        officer = User.objects.create_user(f"officer{number}", password=PASSWORD)
        officer.groups.add(officers)
        ids.append(officer.pk)

    barrier = threading.Barrier(CONTENDERS)
    outcomes: list[str] = []

    def contend(officer_id: int) -> None:
        try:
            officer = User.objects.get(pk=officer_id)
            barrier.wait()
            workflow.decide(officer, request.pk, "approved", "ship it", PASSWORD)
            outcomes.append("won")
        except workflow.Conflict as exc:
            assert str(exc) == f"request {request.pk} is already approved; nothing was signed"
            outcomes.append("conflict")
        finally:
            # Each thread has its own connection; close it so the flush can run.
            connection.close()

    threads = [threading.Thread(target=contend, args=(officer_id,)) for officer_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["conflict"] * (CONTENDERS - 1) + ["won"]
    assert Decision.objects.filter(request=request).count() == 1
    outbox = ApplyOutbox.objects.get(request=request)
    assert (outbox.status, outbox.attempts) == ("done", 1)
    assert LedgerEntry.objects.filter(action="decision.approved").count() == 1
    [applied] = LedgerEntry.objects.filter(action="request.applied")
    assert applied.details["already_in_target"] is False
    client = MlflowClient(tracking_uri=mlflow_server.uri, registry_uri=mlflow_server.uri)
    assert client.get_model_version(name, "1").current_stage == "Production"
    report = verify_ledger(checkpoint_dir=tmp_path)
    assert report.intact, report.problem
