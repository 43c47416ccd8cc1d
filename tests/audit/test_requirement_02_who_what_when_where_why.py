"""Requirement 2: an entry made over HTTP says who, what, when, where and why."""

import json
from datetime import UTC
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from governance.api.tokens import create_api_token
from governance.models import LedgerEntry, ModelVersion
from tests.support.mirror_rows import make_source, make_version
from tests.support.personas import DANA, OLIVIA, PASSWORD, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

URL = "/api/v1/requests/"
# What a client might try to pass off as the time of the change.
CLIENT_TIME = "2001-02-03T04:05:06Z"
CLIENT_HEADERS: dict[str, Any] = {
    "HTTP_DATE": "Sat, 03 Feb 2001 04:05:06 GMT",
    "HTTP_X_FORWARDED_FOR": "198.51.100.99",
    "REMOTE_ADDR": "203.0.113.7",
}


def _client(user: User) -> APIClient:
    client = APIClient()
    issued = create_api_token(user, "audit", by=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {issued.secret}")
    return client


def _post(client: APIClient, url: str, body: dict[str, Any], request_id: str) -> Any:
    body = body | {"recorded_at": CLIENT_TIME, "timestamp": CLIENT_TIME}
    return client.post(url, body, format="json", HTTP_X_REQUEST_ID=request_id, **CLIENT_HEADERS)


@pytest.fixture
def version() -> ModelVersion:
    return make_version(make_source(), "req02-scorer", 4, run_author="derek")


def test_an_entry_made_over_http_answers_who_what_when_where_and_why(
    version: ModelVersion,
) -> None:
    dana, olivia = make_user(DANA), make_user(OLIVIA)
    started = timezone.now()

    asked = _post(
        _client(dana),
        URL,
        {
            "model_version": version.pk,
            "target_kind": "stage",
            "target": "Production",
            "rationale": "Beats the incumbent on AUC.",
        },
        "audit-req-0001",
    )
    request_id = asked.json()["id"]
    signed = _post(
        _client(olivia),
        f"{URL}{request_id}/approve/",
        {"rationale": "Evidence reviewed.", "password": PASSWORD},
        "audit-req-0002",
    )

    finished = timezone.now()
    assert (asked.status_code, signed.status_code) == (201, 200)
    created = LedgerEntry.objects.get(action="request.created")
    approved = LedgerEntry.objects.get(action="decision.approved")
    # Who: the account, the printed name and the role it acted in.
    assert (created.actor_id, created.actor_name, created.actor_role) == (
        dana.pk,
        "Dana Scully",
        "data_scientist",
    )
    assert (approved.actor_id, approved.actor_name, approved.actor_role) == (
        olivia.pk,
        "Olivia Pope",
        "governance_officer",
    )
    # What: the action, the object and its state before and after.
    assert (approved.object_type, approved.object_id) == ("transition_request", str(request_id))
    assert (approved.model_name, approved.version, approved.target) == (
        "req02-scorer",
        4,
        "Production",
    )
    assert approved.before is not None and approved.after is not None
    assert approved.before != approved.after
    # When: the server's clock in UTC, whatever the client sent.
    for entry in (created, approved):
        assert started <= entry.recorded_at <= finished
        assert entry.recorded_at.utcoffset() == UTC.utcoffset(None)
        assert json.loads(entry.canonical)["recorded_at"].endswith("+00:00")
        assert "2001" not in entry.canonical
    # Where: the caller's request id and the peer address, not a forwarded one.
    assert (created.request_id, created.client_address) == ("audit-req-0001", "203.0.113.7")
    assert (approved.request_id, approved.client_address) == ("audit-req-0002", "203.0.113.7")
    # Why: the rationale given with the request and with the decision.
    assert created.reason == "Beats the incumbent on AUC."
    assert approved.reason == "Evidence reviewed."
    assert signed["X-Request-ID"] == "audit-req-0002"


def test_a_request_without_an_id_gets_one_from_the_server(version: ModelVersion) -> None:
    dana = make_user(DANA)

    response = _client(dana).post(
        URL,
        {
            "model_version": version.pk,
            "target_kind": "stage",
            "target": "Staging",
            "rationale": "Ready for shadow traffic.",
        },
        format="json",
        HTTP_X_REQUEST_ID="\x00" * 80,
    )

    entry = LedgerEntry.objects.get(action="request.created")
    assert response.status_code == 201
    assert len(entry.request_id) == 32
    assert entry.request_id == response["X-Request-ID"]
    assert entry.client_address == "127.0.0.1"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("approve/", {"rationale": " ", "password": PASSWORD}, "rationale"),
        ("reject/", {"rationale": "", "password": PASSWORD}, "rationale"),
        ("cancel/", {"reason": ""}, "reason"),
    ],
)
def test_approvals_rejections_and_cancellations_need_a_reason(
    version: ModelVersion, path: str, body: dict[str, str], field: str
) -> None:
    dana, olivia = make_user(DANA), make_user(OLIVIA)
    request_id = (
        _client(dana)
        .post(
            URL,
            {
                "model_version": version.pk,
                "target_kind": "stage",
                "target": "Production",
                "rationale": "Lift.",
            },
            format="json",
        )
        .json()["id"]
    )
    actor = dana if path == "cancel/" else olivia

    response = _client(actor).post(f"{URL}{request_id}/{path}", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert not LedgerEntry.objects.filter(action__startswith="decision.").exists()
    assert not LedgerEntry.objects.filter(action="request.cancelled").exists()
