"""GET /api/v1/models/{id}/holders/: which version held a stage or alias at a moment."""

from datetime import datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from governance import ledger
from governance.models import RegisteredModel
from tests.api import data
from tests.api.conftest import ClientFor

pytestmark = pytest.mark.django_db


def _entry(action: str, request_id: int, **fields: Any) -> None:
    ledger.append(
        ledger.EntryDraft(
            action=action,
            object_type="transition_request",
            object_id=str(request_id),
            source_name="default",
            model_name="scorer",
            **fields,
        )
    )


def _applied(version: int, request_id: int) -> None:
    with transaction.atomic():
        _entry(
            "decision.approved",
            request_id,
            precision="recorded",
            reason=f"Approved for reason {request_id}",
        )
        _entry(
            "request.applied",
            request_id,
            precision="exact",
            version=version,
            target="Production",
            after={"stage": "Production"},
            details={
                "target_kind": "stage",
                "request_id": request_id,
                "approvers": ["Olivia Pope"],
                "requested_by": "Dana Scully",
            },
        )


@pytest.fixture
def history() -> tuple[RegisteredModel, list[datetime]]:
    model = data.registered_model("scorer")
    before = timezone.now()
    _applied(1, 11)
    between = timezone.now()
    _applied(2, 12)
    after = timezone.now()
    return model, [before, between, after]


def _url(model: RegisteredModel) -> str:
    return f"/api/v1/models/{model.pk}/holders/"


def test_it_names_the_holder_between_two_transitions(
    client_for: ClientFor, erin: User, history: tuple[RegisteredModel, list[datetime]]
) -> None:
    model, (before, between, after) = history
    client = client_for(erin)
    stage = {"target_kind": "stage", "target": "Production"}

    at_before = client.get(_url(model), {"at": before.isoformat(), **stage}).json()
    at_between = client.get(_url(model), {"at": between.isoformat(), **stage}).json()
    at_after = client.get(_url(model), {"at": after.isoformat()}).json()

    assert at_before["holdings"] == []
    [held] = at_between["holdings"]
    assert (held["version"], held["precision"], held["uncertain"]) == (1, "exact", False)
    assert held["approved_by"] == ["Olivia Pope"] and held["request_id"] == 11
    [approval] = held["approvals"]
    assert approval["reason"] == "Approved for reason 11" and held["request_reason"] == ""
    assert [(h["target"], h["version"]) for h in at_after["holdings"]] == [("Production", 2)]


def test_it_refuses_anonymous_callers(
    anonymous: APIClient, history: tuple[RegisteredModel, list[datetime]]
) -> None:
    model, _ = history

    assert anonymous.get(_url(model), {"at": "2026-01-01T00:00:00Z"}).status_code == 401


def test_it_refuses_a_user_without_a_role(
    client_for: ClientFor, nobody: User, history: tuple[RegisteredModel, list[datetime]]
) -> None:
    model, _ = history

    response = client_for(nobody).get(_url(model), {"at": "2026-01-01T00:00:00Z"})

    assert response.status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"at": "last tuesday"},
        {"at": "2026-01-01T00:00:00Z", "target": "Production"},
        {"at": "2026-01-01T00:00:00Z", "target_kind": "label", "target": "x"},
    ],
)
def test_it_rejects_a_bad_question(
    client_for: ClientFor,
    dana: User,
    history: tuple[RegisteredModel, list[datetime]],
    query: dict[str, str],
) -> None:
    model, _ = history

    response = client_for(dana).get(_url(model), query)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
