"""GET /api/v1/sources/: the MLflow sources and the state of their sync."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from governance.models import MlflowSource, SyncRun
from tests.api.conftest import ClientFor

pytestmark = pytest.mark.django_db
URL = "/api/v1/sources/"
WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def source() -> MlflowSource:
    source = MlflowSource.objects.create(
        name="prod",
        tracking_uri="https://robot:s3cret@mlflow.example.test:5000/",
        last_success_at=WHEN,
        last_error="connection refused",
        last_counts={"runs": {"created": 3}},
        last_duration_ms=1200,
        sync_lease_token="lease-abc",
    )
    SyncRun.objects.create(source=source, kind="full", status="succeeded", started_at=WHEN)
    return source


def test_it_lists_sync_status_without_credentials(
    client_for: ClientFor, erin: User, source: MlflowSource
) -> None:
    response = client_for(erin).get(URL)

    row = response.json()["results"][0]
    assert response.status_code == 200
    assert row["tracking_uri"] == "https://mlflow.example.test:5000/"
    assert row["last_success_at"] == "2026-03-01T12:00:00Z"
    assert row["last_error"] == "connection refused"
    assert row["last_counts"] == {"runs": {"created": 3}}
    assert "s3cret" not in response.content.decode()
    assert "lease-abc" not in response.content.decode()


def test_it_shows_recent_syncs_of_a_source(
    client_for: ClientFor, olivia: User, source: MlflowSource
) -> None:
    response = client_for(olivia).get(f"{URL}{source.pk}/")

    assert [s["kind"] for s in response.json()["recent_syncs"]] == ["full"]


def test_it_refuses_anonymous_callers(anonymous: APIClient) -> None:
    assert anonymous.get(URL).status_code == 401


def test_it_refuses_a_user_without_a_role(client_for: ClientFor, nobody: User) -> None:
    assert client_for(nobody).get(URL).status_code == 403


def test_it_filters_by_enabled(client_for: ClientFor, erin: User, source: MlflowSource) -> None:
    response = client_for(erin).get(URL, {"enabled": "false"})

    assert response.json()["count"] == 0


def test_it_rejects_a_filter_that_is_not_a_boolean(client_for: ClientFor, erin: User) -> None:
    response = client_for(erin).get(URL, {"enabled": "perhaps"})

    assert response.status_code == 400
    assert "enabled" in response.json()["error"]["details"]


def test_it_answers_404_for_a_page_past_the_end(client_for: ClientFor, erin: User) -> None:
    response = client_for(erin).get(URL, {"page": "7"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
