"""/api/v1/tokens/: tokens shown once, stored as digests, revocable, on the ledger."""

import hashlib

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from governance.api.tokens import create_api_token
from governance.models import ApiToken, LedgerEntry
from tests.api.conftest import ClientFor

pytestmark = pytest.mark.django_db
URL = "/api/v1/tokens/"


def _session(user: User) -> APIClient:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def _csrf(client: APIClient) -> str:
    # The API's docs page sets the cookie, as the reviewer pages do.
    client.get("/api/docs/")
    return str(client.cookies["csrftoken"].value)


def test_it_issues_a_token_once_and_stores_only_its_digest(dana: User) -> None:
    client = APIClient()
    client.force_login(dana)

    response = client.post(URL, {"name": "ci pipeline"}, format="json")

    body = response.json()
    secret = body["secret"]
    token = ApiToken.objects.get(pk=body["id"])
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    assert secret.startswith("mlg_") and len(secret) > 40
    assert token.key_digest == hashlib.sha256(secret.encode()).hexdigest()
    assert body["user"] == "dana" and body["prefix"] == secret[:12]
    assert "secret" not in client.get(f"{URL}{token.pk}/").json()


def test_the_new_token_authenticates_and_records_its_use(dana: User) -> None:
    session = APIClient()
    session.force_login(dana)
    secret = session.post(URL, {"name": "ci"}, format="json").json()["secret"]
    machine = APIClient()
    machine.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    response = machine.get("/api/v1/runs/")

    assert response.status_code == 200
    assert ApiToken.objects.get(name="ci").last_used_at is not None


def test_creation_and_revocation_are_ledger_events_without_the_secret(dana: User) -> None:
    session = APIClient()
    session.force_login(dana)
    created = session.post(URL, {"name": "ci"}, format="json").json()

    session.post(f"{URL}{created['id']}/revoke/")

    entries = list(LedgerEntry.objects.filter(object_type="api_token").order_by("seq"))
    assert [e.action for e in entries] == ["api_token.created", "api_token.revoked"]
    assert all(e.actor_username == "dana" for e in entries)
    assert entries[0].after == {"name": "ci", "owner": "dana"}
    assert all(created["secret"] not in e.canonical for e in entries)
    assert all(created["secret"][:12] not in e.canonical for e in entries)


def test_a_revoked_token_no_longer_authenticates(client_for: ClientFor, dana: User) -> None:
    issued = create_api_token(dana, "old", by=dana)
    machine = APIClient()
    machine.credentials(HTTP_AUTHORIZATION=f"Token {issued.secret}")

    revoked = machine.post(f"{URL}{issued.token.pk}/revoke/")
    after = machine.get("/api/v1/runs/")

    assert revoked.status_code == 200 and revoked.json()["active"] is False
    assert after.status_code == 401
    assert after.json()["error"] == {
        "code": "authentication_failed",
        "message": "Invalid or revoked token.",
        "details": {},
    }


def test_revoking_twice_is_a_conflict(client_for: ClientFor, dana: User) -> None:
    issued = create_api_token(dana, "old", by=dana)
    client = client_for(dana)
    client.post(f"{URL}{issued.token.pk}/revoke/")

    again = client.post(f"{URL}{issued.token.pk}/revoke/")

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    assert again.json()["error"]["message"] == f"API token {issued.token.pk} was already revoked."


def test_an_admin_issues_and_revokes_tokens_of_another_user(adam: User, dana: User) -> None:
    session = APIClient()
    session.force_login(adam)

    created = session.post(URL, {"name": "for dana", "user": "dana"}, format="json")
    listed = session.get(URL, {"user": "dana"}).json()
    revoked = session.post(f"{URL}{created.json()['id']}/revoke/")

    assert created.status_code == 201 and created.json()["user"] == "dana"
    assert [t["name"] for t in listed["results"]] == ["for dana"]
    assert revoked.status_code == 200
    entry = LedgerEntry.objects.get(action="api_token.created")
    assert (entry.actor_username, entry.actor_role) == ("adam", "admin")


def test_a_user_sees_only_their_own_tokens(client_for: ClientFor, dana: User, derek: User) -> None:
    theirs = create_api_token(derek, "derek's", by=derek)

    client = client_for(dana)

    assert [t["name"] for t in client.get(URL).json()["results"]] == ["tests"]
    assert client.get(f"{URL}{theirs.token.pk}/").status_code == 404
    assert client.post(f"{URL}{theirs.token.pk}/revoke/").status_code == 404


def test_it_refuses_a_token_for_another_user_to_a_non_admin(dana: User, derek: User) -> None:
    session = APIClient()
    session.force_login(dana)

    response = session.post(URL, {"name": "x", "user": "derek"}, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["message"] == (
        "Only an admin can manage another user's API tokens."
    )
    assert not ApiToken.objects.exists()


def test_it_refuses_to_mint_tokens_with_a_token(client_for: ClientFor, dana: User) -> None:
    response = client_for(dana).post(URL, {"name": "child"}, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["message"] == (
        "Create API tokens from a signed-in session, not with a token."
    )


def test_a_browser_session_needs_the_csrf_token(dana: User) -> None:
    client = _session(dana)

    refused = client.post(URL, {"name": "ci"}, format="json")
    accepted = client.post(URL, {"name": "ci"}, format="json", HTTP_X_CSRFTOKEN=_csrf(client))

    assert refused.status_code == 403
    assert refused.json()["error"]["message"].startswith("CSRF Failed")
    assert accepted.status_code == 201


def test_it_refuses_anonymous_callers(anonymous: APIClient) -> None:
    assert anonymous.get(URL).status_code == 401
    assert anonymous.post(URL, {"name": "x"}, format="json").status_code == 401


def test_it_refuses_a_user_without_a_role(nobody: User) -> None:
    session = APIClient()
    session.force_login(nobody)

    assert session.post(URL, {"name": "x"}, format="json").status_code == 403
    assert session.get(URL).status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "name"), ({"name": "x" * 101}, "name"), ({"name": "x", "user": "ghost"}, "user")],
)
def test_it_rejects_a_bad_token_request(dana: User, body: dict[str, str], field: str) -> None:
    session = APIClient()
    session.force_login(dana)

    response = session.post(URL, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


@pytest.mark.parametrize(
    "header", ["Token", "Token a b", "Token not-a-real-token", "Bearer mlg_guess"]
)
def test_it_answers_401_to_a_malformed_or_unknown_token(header: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get("/api/v1/runs/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_refused_token_is_a_security_event_without_the_secret(dana: User) -> None:
    issued = create_api_token(dana, "old", by=dana)
    session = APIClient()
    session.force_login(dana)
    session.post(f"{URL}{issued.token.pk}/revoke/")
    machine = APIClient()

    machine.credentials(HTTP_AUTHORIZATION=f"Token {issued.secret}")
    machine.get("/api/v1/runs/")
    machine.credentials(HTTP_AUTHORIZATION="Token mlg_made-up")
    machine.get("/api/v1/models/")

    revoked, unknown = LedgerEntry.objects.filter(action="security.api_token_refused").order_by(
        "seq"
    )
    assert (revoked.object_id, revoked.details) == (
        str(issued.token.pk),
        {"why": "revoked", "path": "/api/v1/runs/", "owner": "dana"},
    )
    assert (unknown.object_id, unknown.details["why"]) == ("", "unknown")
    assert revoked.client_address == "127.0.0.1"
    assert issued.secret not in revoked.canonical and "mlg_made-up" not in unknown.canonical
