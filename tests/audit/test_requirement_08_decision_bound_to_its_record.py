"""Requirement 8: a decision is bound to what was decided; the apply step re-checks it."""

import uuid

import pytest
from django.contrib.auth.models import User
from mlflow import MlflowClient

from governance import apply, evidence, workflow
from governance.models import ApplyOutbox, Decision, LedgerEntry, MlflowSource, TransitionRequest
from tests.support.mirror_rows import make_source, register_in_mlflow
from tests.support.mlflow_server import MlflowServer
from tests.support.personas import DANA, OLIVIA, OSCAR, PASSWORD, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]


@pytest.fixture
def users() -> dict[str, User]:
    return {p.username: make_user(p) for p in (DANA, OLIVIA, OSCAR)}


@pytest.fixture
def source(mlflow_server: MlflowServer) -> MlflowSource:
    return make_source("local", mlflow_server.uri)


def _approve(users: dict[str, User], request: TransitionRequest, officer: str) -> Decision:
    return workflow.decide(users[officer], request.pk, "approved", "checked", PASSWORD)


def test_a_decision_moved_to_another_request_is_not_applied(
    users: dict[str, User], source: MlflowSource, mlflow_server: MlflowServer
) -> None:
    name = f"req08-{uuid.uuid4().hex[:8]}"
    first, second = register_in_mlflow(mlflow_server.uri, source, name, 2)
    one = workflow.request_transition(users["dana"], first, "stage", "Staging", "shadow")
    two = workflow.request_transition(users["dana"], second, "alias", "champion", "lift")
    signed_one, signed_two = _approve(users, one, "olivia"), _approve(users, two, "oscar")
    # Someone with database access swaps the two signed decisions.
    Decision.objects.filter(pk=signed_one.pk).update(request=two)
    Decision.objects.filter(pk=signed_two.pk).update(request=one)

    outcome = apply.apply_outbox(ApplyOutbox.objects.get(request=one).pk)

    assert outcome.status == "stale"
    assert outcome.detail == "the version changed since approval: decision binding"
    client = MlflowClient(tracking_uri=mlflow_server.uri, registry_uri=mlflow_server.uri)
    assert client.get_model_version(name, "1").current_stage == "None"
    assert not LedgerEntry.objects.filter(action="request.applied").exists()
    stale = LedgerEntry.objects.get(action="request.stale")
    assert stale.details["changed"] == ["decision binding"]


def test_evidence_rewritten_after_the_decision_is_not_applied(
    users: dict[str, User], source: MlflowSource, mlflow_server: MlflowServer
) -> None:
    name = f"req08-{uuid.uuid4().hex[:8]}"
    [version] = register_in_mlflow(mlflow_server.uri, source, name)
    request = workflow.request_transition(users["dana"], version, "stage", "Staging", "shadow")
    _approve(users, request, "olivia")
    # The frozen evidence is made to look better, with a consistent hash.
    forged = dict(request.evidence)
    forged["candidate"] = {**forged["candidate"], "metrics": {"accuracy": 0.99}}
    TransitionRequest.objects.filter(pk=request.pk).update(
        evidence=forged, evidence_hash=evidence.evidence_hash(forged)
    )

    outcome = apply.apply_outbox(ApplyOutbox.objects.get(request=request).pk)

    assert outcome.status == "stale"
    assert outcome.detail == "the version changed since approval: decision binding"


def test_the_binding_differs_for_every_version_and_every_body_of_evidence() -> None:
    frozen = "a" * 64
    base = {"source": "local", "model": "scorer", "version": 1}

    bindings = {
        evidence.binding_hash(base, frozen),
        evidence.binding_hash({**base, "version": 2}, frozen),
        evidence.binding_hash({**base, "model": "scorer2"}, frozen),
        evidence.binding_hash({**base, "source": "other"}, frozen),
        evidence.binding_hash(base, "b" * 64),
    }

    assert len(bindings) == 5
    assert evidence.binding_hash(dict(reversed(base.items())), frozen) in bindings
