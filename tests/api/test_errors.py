"""The API's error shape, unknown paths and throttling of every kind of caller."""

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from tests.api.conftest import ClientFor

pytestmark = pytest.mark.django_db


@pytest.fixture
def tight_rates(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # DRF reads the rates once at import; the class attribute is what counts.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/min", "user": "3/min"})
    yield


def test_an_unknown_api_path_answers_json_404(client_for: ClientFor, dana: User) -> None:
    response = client_for(dana).get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "No such API endpoint.", "details": {}}
    }


def test_a_wrong_method_answers_405_in_the_same_shape(client_for: ClientFor, dana: User) -> None:
    response = client_for(dana).delete("/api/v1/runs/")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_malformed_json_is_a_400(dana: User) -> None:
    session = APIClient()
    session.force_login(dana)

    response = session.post("/api/v1/tokens/", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_an_authenticated_client_is_throttled_with_retry_after(
    client_for: ClientFor, dana: User, tight_rates: None
) -> None:
    client = client_for(dana)
    statuses = [client.get("/api/v1/runs/").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    throttled = client.get("/api/v1/runs/")
    assert int(throttled["Retry-After"]) > 0
    assert throttled.json()["error"]["code"] == "throttled"
    assert throttled.json()["error"]["details"]["retry_after_seconds"] > 0


def test_anonymous_callers_are_throttled_too(anonymous: APIClient, tight_rates: None) -> None:
    statuses = [anonymous.get("/api/v1/runs/").status_code for _ in range(3)]

    assert statuses == [401, 401, 429]


def test_guessing_tokens_is_throttled(tight_rates: None) -> None:
    client = APIClient()
    statuses = []
    for guess in range(3):
        client.credentials(HTTP_AUTHORIZATION=f"Token mlg_guess{guess}")
        statuses.append(client.get("/api/v1/runs/").status_code)

    assert statuses == [401, 401, 429]


def test_users_without_a_role_are_throttled_too(
    client_for: ClientFor, nobody: User, tight_rates: None
) -> None:
    client = client_for(nobody)
    statuses = [client.get("/api/v1/runs/").status_code for _ in range(4)]

    assert statuses == [403, 403, 403, 429]
