"""/api/v1/requests/: request, cancel, approve and reject through the workflow services."""

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from governance.models import LedgerEntry, ModelVersion, TransitionRequest
from tests.api import data
from tests.api.conftest import ClientFor
from tests.support.personas import PASSWORD

pytestmark = pytest.mark.django_db
URL = "/api/v1/requests/"


@pytest.fixture
def version() -> ModelVersion:
    run = data.run(data.experiment("churn"), metrics={"auc": 0.81}, user_id="derek")
    return data.version(data.registered_model("scorer", risk_tier="low"), 3, trained_by=run)


def _ask(client: APIClient, version: ModelVersion, **overrides: Any) -> Any:
    body = {
        "model_version": version.pk,
        "target_kind": "stage",
        "target": "Production",
        "rationale": "Beats the incumbent on AUC.",
    } | overrides
    return client.post(URL, body, format="json")


def _sign(client: APIClient, request_id: int, verb: str, password: str = PASSWORD) -> Any:
    body = {"rationale": "Evidence reviewed.", "password": password}
    return client.post(f"{URL}{request_id}/{verb}/", body, format="json")


def test_a_data_scientist_requests_and_the_evidence_is_frozen(
    client_for: ClientFor, dana: User, version: ModelVersion
) -> None:
    response = _ask(client_for(dana), version)

    body = response.json()
    assert response.status_code == 201
    assert (body["status"], body["model"], body["version"]) == ("pending", "scorer", 3)
    assert body["requested_by"] == "dana"
    assert body["evidence"]["candidate"]["metrics"] == {"auc": 0.81}
    assert body["decisions"] == [] and body["apply_status"] is None
    assert LedgerEntry.objects.filter(action="request.created", actor_username="dana").exists()


def test_an_officer_approves_with_the_password_and_the_outbox_is_created(
    client_for: ClientFor, dana: User, olivia: User, version: ModelVersion
) -> None:
    request_id = _ask(client_for(dana), version).json()["id"]

    response = _sign(client_for(olivia), request_id, "approve")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "approved"
    assert body["apply_status"]["status"] == "pending"
    [decision] = body["decisions"]
    assert (decision["signer_name"], decision["meaning"]) == ("Olivia Pope", "approved")
    assert len(decision["binding_hash"]) == 64


def test_an_officer_rejects(
    client_for: ClientFor, dana: User, olivia: User, version: ModelVersion
) -> None:
    request_id = _ask(client_for(dana), version).json()["id"]

    response = _sign(client_for(olivia), request_id, "reject")

    assert response.json()["status"] == "rejected"
    assert response.json()["apply_status"] is None


def test_deciding_an_already_decided_request_is_a_conflict(
    client_for: ClientFor, dana: User, olivia: User, oscar: User, version: ModelVersion
) -> None:
    request_id = _ask(client_for(dana), version).json()["id"]
    _sign(client_for(olivia), request_id, "approve")

    late = _sign(client_for(oscar), request_id, "reject")

    assert late.status_code == 409
    assert late.json()["error"] == {
        "code": "conflict",
        "message": f"Request {request_id} is already approved; nothing was signed.",
        "details": {},
    }


def test_the_requester_cancels_a_pending_request(
    client_for: ClientFor, dana: User, version: ModelVersion
) -> None:
    client = client_for(dana)
    request_id = _ask(client, version).json()["id"]

    response = client.post(f"{URL}{request_id}/cancel/", {"reason": "Wrong run."}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


def test_a_second_open_request_for_the_same_target_is_a_conflict(
    client_for: ClientFor, dana: User, version: ModelVersion
) -> None:
    client = client_for(dana)
    first = _ask(client, version).json()["id"]

    second = _ask(client, version)

    assert second.status_code == 409
    assert second.json()["error"]["message"] == (
        f"Request {first} for Production of scorer is already open."
    )


def test_it_lists_and_filters_requests(
    client_for: ClientFor, dana: User, erin: User, version: ModelVersion
) -> None:
    _ask(client_for(dana), version)
    _ask(client_for(dana), version, target_kind="alias", target="champion")
    client = client_for(erin)

    every = client.get(URL).json()
    aliases = client.get(URL, {"target_kind": "alias"}).json()
    mine = client.get(URL, {"requested_by": "dana", "status": "pending"}).json()

    assert every["count"] == 2
    assert [r["target"] for r in aliases["results"]] == ["champion"]
    assert mine["count"] == 2
    assert "evidence" not in every["results"][0]


def test_a_wrong_password_signs_nothing_and_is_recorded(
    client_for: ClientFor, dana: User, olivia: User, version: ModelVersion
) -> None:
    request_id = _ask(client_for(dana), version).json()["id"]

    response = _sign(client_for(olivia), request_id, "approve", password="not my password")

    assert response.status_code == 403
    assert response.json()["error"]["message"] == (
        "The password did not match; the decision was not signed."
    )
    assert TransitionRequest.objects.get(pk=request_id).status == "pending"
    refused = LedgerEntry.objects.get(action="security.action_refused")
    assert refused.actor_username == "olivia"
    assert "not my password" not in refused.canonical


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("dana", "Only a governance officer can decide a request."),
        ("erin", "Only a governance officer can decide a request."),
        ("adam", "An admin cannot decide requests; administrators manage access only."),
    ],
)
def test_only_officers_decide(
    client_for: ClientFor,
    dana: User,
    erin: User,
    adam: User,
    version: ModelVersion,
    who: str,
    expected: str,
) -> None:
    request_id = _ask(client_for(dana), version).json()["id"]
    user = User.objects.get(username=who)

    response = _sign(client_for(user), request_id, "approve")

    assert response.status_code == 403
    assert response.json()["error"]["message"] == expected


def test_an_officer_cannot_decide_their_own_request(
    client_for: ClientFor, dana: User, version: ModelVersion
) -> None:
    dana.groups.add(Group.objects.get(name="governance_officer"))
    client = client_for(User.objects.get(pk=dana.pk))
    request_id = _ask(client, version).json()["id"]

    response = _sign(client, request_id, "approve")

    assert response.status_code == 403
    assert response.json()["error"]["message"] == ("The requester cannot decide their own request.")


def test_the_run_author_cannot_approve_promotion_to_production(
    client_for: ClientFor, dana: User, olivia: User, version: ModelVersion
) -> None:
    # The training run was logged in MLflow by "olivia" in this scenario.
    run = version.training_run
    assert run is not None
    run.user_id = "olivia"
    run.save(update_fields=["user_id"])
    request_id = _ask(client_for(dana), version).json()["id"]

    response = _sign(client_for(olivia), request_id, "approve")

    assert response.status_code == 403
    assert "author of the training run" in response.json()["error"]["message"]


def test_only_data_scientists_request(
    client_for: ClientFor, olivia: User, version: ModelVersion
) -> None:
    response = _ask(client_for(olivia), version)

    assert response.status_code == 403
    assert response.json()["error"]["message"] == (
        "Only a data scientist can request a transition."
    )


def test_only_the_requester_cancels(
    client_for: ClientFor, dana: User, derek: User, version: ModelVersion
) -> None:
    request_id = _ask(client_for(dana), version).json()["id"]

    response = client_for(derek).post(
        f"{URL}{request_id}/cancel/", {"reason": "Mine now."}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["error"]["message"] == "Only the requester can cancel a request."


def test_it_refuses_anonymous_callers(anonymous: APIClient, version: ModelVersion) -> None:
    assert anonymous.get(URL).status_code == 401
    assert _ask(anonymous, version).status_code == 401
    assert anonymous.post(f"{URL}1/approve/", {}, format="json").status_code == 401


def test_it_refuses_a_user_without_a_role(
    client_for: ClientFor, nobody: User, version: ModelVersion
) -> None:
    client = client_for(nobody)

    assert client.get(URL).status_code == 403
    assert _ask(client, version).status_code == 403


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"target": "Heaven"}, None),
        ({"target_kind": "label"}, "target_kind"),
        ({"rationale": ""}, "rationale"),
        ({"model_version": 987654}, "model_version"),
    ],
)
def test_it_rejects_a_bad_request(
    client_for: ClientFor,
    dana: User,
    version: ModelVersion,
    overrides: dict[str, Any],
    field: str | None,
) -> None:
    response = _ask(client_for(dana), version, **overrides)

    error = response.json()["error"]
    assert response.status_code == 400
    assert error["code"] == "invalid"
    if field:
        assert field in error["details"]
    else:
        assert error["message"] == (
            "Stage 'Heaven' cannot be requested; choose Staging, Production, Archived."
        )


def test_a_decision_needs_a_rationale_and_a_password(
    client_for: ClientFor, dana: User, olivia: User, version: ModelVersion
) -> None:
    request_id = _ask(client_for(dana), version).json()["id"]

    response = client_for(olivia).post(f"{URL}{request_id}/approve/", {}, format="json")

    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"rationale", "password"}


def test_it_answers_404_for_an_unknown_request(client_for: ClientFor, olivia: User) -> None:
    assert _sign(client_for(olivia), 424242, "approve").status_code == 404
