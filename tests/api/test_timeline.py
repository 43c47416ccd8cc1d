"""GET /api/v1/models/{id}/timeline/ and /api/v1/model-versions/{id}/timeline/."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from rest_framework.test import APIClient

from governance import ledger
from governance.models import ModelVersion
from tests.api import data
from tests.api.conftest import ClientFor

pytestmark = pytest.mark.django_db


def _record(action: str, model: str, version: int | None, **fields: Any) -> None:
    with transaction.atomic():
        ledger.append(
            ledger.EntryDraft(
                action=action,
                object_type="model_version",
                precision=fields.pop("precision", "recorded"),
                source_name="default",
                model_name=model,
                version=version,
                **fields,
            )
        )


@pytest.fixture
def version() -> ModelVersion:
    model = data.registered_model("scorer")
    data.version(model, 1)
    two = data.version(model, 2)
    _record("request.created", "scorer", 2, target="Production", reason="Better AUC.")
    _record("registry.stage_changed", "scorer", 1, target="Archived", precision="observed")
    _record("decision.approved", "scorer", 2, target="Production")
    _record("request.created", "other-model", 2)
    return two


def test_a_version_timeline_lists_its_entries_in_order(
    client_for: ClientFor, erin: User, version: ModelVersion
) -> None:
    response = client_for(erin).get(f"/api/v1/model-versions/{version.pk}/timeline/")

    rows = response.json()["results"]
    assert response.status_code == 200
    assert [r["action"] for r in rows] == ["request.created", "decision.approved"]
    assert rows[0]["reason"] == "Better AUC."
    assert rows[0]["precision"] == "recorded"
    assert len(rows[0]["entry_hash"]) == 64


def test_a_model_timeline_covers_every_version_and_filters(
    client_for: ClientFor, olivia: User, version: ModelVersion
) -> None:
    client = client_for(olivia)
    url = f"/api/v1/models/{version.registered_model_id}/timeline/"

    every = client.get(url).json()
    observed = client.get(url, {"precision": "observed"}).json()
    approvals = client.get(url, {"action": "decision.approved"}).json()
    later = client.get(url, {"since": "2999-01-01T00:00:00Z"}).json()

    assert [r["version"] for r in every["results"]] == [2, 1, 2]
    assert [r["target"] for r in observed["results"]] == ["Archived"]
    assert approvals["count"] == 1
    assert later["count"] == 0


def test_it_refuses_anonymous_callers(anonymous: APIClient, version: ModelVersion) -> None:
    assert anonymous.get(f"/api/v1/model-versions/{version.pk}/timeline/").status_code == 401


def test_it_refuses_a_user_without_a_role(
    client_for: ClientFor, nobody: User, version: ModelVersion
) -> None:
    response = client_for(nobody).get(f"/api/v1/model-versions/{version.pk}/timeline/")

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("query", "field"), [({"precision": "guessed"}, "precision"), ({"since": "yesterday"}, "since")]
)
def test_it_rejects_a_bad_filter(
    client_for: ClientFor, dana: User, version: ModelVersion, query: dict[str, str], field: str
) -> None:
    response = client_for(dana).get(f"/api/v1/model-versions/{version.pk}/timeline/", query)

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
