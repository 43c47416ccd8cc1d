"""Requesting and cancelling transitions, with the evidence frozen at request time."""

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied

from governance import evidence, ledger, workflow
from governance.models import LedgerEntry, ModelVersion, TransitionRequest
from tests.support.mirror_rows import make_source, make_version
from tests.support.personas import ADAM, ALL, DEREK, ERIN, OLIVIA, Persona, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]


@pytest.fixture
def users() -> dict[str, User]:
    return {persona.username: make_user(persona) for persona in ALL}


@pytest.fixture
def candidate() -> ModelVersion:
    source = make_source()
    make_version(source, "churn", 1, stage="Production", metrics={"accuracy": 0.8})
    return make_version(source, "churn", 2, run_author="derek")


def _actions() -> list[str]:
    return list(LedgerEntry.objects.values_list("action", flat=True))


def test_a_data_scientist_requests_a_promotion_with_frozen_evidence(
    users: dict[str, User], candidate: ModelVersion
) -> None:
    request = workflow.request_transition(
        users["dana"], candidate, "stage", "Production", "  better recall on Q3  "
    )

    assert (request.status, request.rationale, request.run_author) == (
        "pending",
        "better recall on Q3",
        "derek",
    )
    assert request.required_approvals == 1
    fingerprint = request.evidence["candidate"]["fingerprint"]
    assert fingerprint["source_uri"] == "models:/m-churn-2"
    assert fingerprint["run_id"] == "run-churn-2"
    assert fingerprint["dataset_digests"] == ["d2"]
    assert len(fingerprint["params_hash"]) == 64
    assert len(fingerprint["signature_hash"]) == 64
    assert request.evidence["candidate"]["metrics"] == {"accuracy": 0.9, "loss": "NaN"}
    assert request.evidence["incumbent"]["fingerprint"]["version"] == 1
    assert request.evidence["incumbent"]["metrics"] == {"accuracy": 0.8}
    assert request.evidence_hash == evidence.evidence_hash(request.evidence)
    entry = LedgerEntry.objects.get()
    assert (entry.action, entry.actor_username, entry.actor_role) == (
        "request.created",
        "dana",
        "data_scientist",
    )
    assert (entry.model_name, entry.version, entry.target, entry.reason) == (
        "churn",
        2,
        "Production",
        "better recall on Q3",
    )
    assert entry.before == {"holder": 1}
    assert entry.details["evidence_hash"] == request.evidence_hash


def test_an_alias_request_names_the_incumbent_holder(
    users: dict[str, User], candidate: ModelVersion
) -> None:
    model = candidate.registered_model
    model.aliases = {"champion": 1}
    model.save()

    request = workflow.request_transition(users["dana"], candidate, "alias", "champion", "why")

    assert request.evidence["incumbent"]["fingerprint"]["version"] == 1
    assert request.evidence["target_kind"] == "alias"


@pytest.mark.parametrize("persona", [OLIVIA, ERIN, ADAM], ids=lambda p: p.roles[0])
def test_other_roles_cannot_request(
    users: dict[str, User], candidate: ModelVersion, persona: Persona
) -> None:
    with pytest.raises(PermissionDenied, match="only a data scientist can request a transition"):
        workflow.request_transition(users[persona.username], candidate, "stage", "Staging", "x")

    assert not TransitionRequest.objects.exists()
    entry = LedgerEntry.objects.get()
    assert (entry.action, entry.actor_username, entry.details) == (
        "security.action_refused",
        persona.username,
        {"attempted": "request.created"},
    )


def test_it_requires_a_rationale(users: dict[str, User], candidate: ModelVersion) -> None:
    with pytest.raises(workflow.InvalidRequest, match="a rationale is required"):
        workflow.request_transition(users["dana"], candidate, "stage", "Staging", "   ")

    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    ("kind", "target", "message"),
    [
        ("stage", "None", "stage 'None' cannot be requested; choose Staging, Production, Archived"),
        ("alias", "latest", "alias 'latest' cannot be requested; choose champion, challenger"),
        ("tag", "x", "tag 'x' cannot be requested; choose stage, alias"),
    ],
)
def test_it_rejects_targets_outside_the_governed_list(
    users: dict[str, User], candidate: ModelVersion, kind: str, target: str, message: str
) -> None:
    with pytest.raises(workflow.InvalidRequest, match=message):
        workflow.request_transition(users["dana"], candidate, kind, target, "why")


def test_it_refuses_a_target_the_version_already_holds(users: dict[str, User]) -> None:
    version = make_version(make_source(), "fraud", 1, stage="Staging")

    with pytest.raises(workflow.InvalidRequest, match="fraud v1 already holds Staging"):
        workflow.request_transition(users["dana"], version, "stage", "Staging", "why")


def test_at_most_one_request_is_open_per_target(
    users: dict[str, User], candidate: ModelVersion
) -> None:
    first = workflow.request_transition(users["dana"], candidate, "stage", "Production", "a")

    with pytest.raises(workflow.Conflict, match=f"request {first.pk} for Production of churn"):
        workflow.request_transition(users["derek"], candidate, "stage", "Production", "b")

    assert TransitionRequest.objects.count() == 1
    workflow.request_transition(users["derek"], candidate, "alias", "champion", "c")


def test_the_requester_cancels_a_pending_request(
    users: dict[str, User], candidate: ModelVersion
) -> None:
    request = workflow.request_transition(users["dana"], candidate, "stage", "Staging", "a")

    workflow.cancel_request(users["dana"], request.pk, "wrong version")

    request.refresh_from_db()
    assert request.status == "cancelled"
    entry = LedgerEntry.objects.last()
    assert entry is not None
    assert (entry.action, entry.reason, entry.before, entry.after) == (
        "request.cancelled",
        "wrong version",
        {"status": "pending"},
        {"status": "cancelled"},
    )
    workflow.request_transition(users["dana"], candidate, "stage", "Staging", "again")


@pytest.mark.parametrize("persona", [DEREK, OLIVIA, ERIN, ADAM], ids=lambda p: p.username)
def test_nobody_else_can_cancel(
    users: dict[str, User], candidate: ModelVersion, persona: Persona
) -> None:
    request = workflow.request_transition(users["dana"], candidate, "stage", "Staging", "a")

    with pytest.raises(PermissionDenied, match="only the requester can cancel a request"):
        workflow.cancel_request(users[persona.username], request.pk, "no")

    request.refresh_from_db()
    assert request.status == "pending"
    assert _actions() == ["request.created", "security.action_refused"]


def test_a_decided_request_cannot_be_cancelled(
    users: dict[str, User], candidate: ModelVersion
) -> None:
    request = workflow.request_transition(users["dana"], candidate, "stage", "Staging", "a")
    workflow.decide(
        users["olivia"], request.pk, "rejected", "not yet", "correct horse battery staple 42"
    )

    with pytest.raises(PermissionDenied, match=f"request {request.pk} is rejected, not pending"):
        workflow.cancel_request(users["dana"], request.pk, "too late")


def test_cancelling_requires_a_reason(users: dict[str, User], candidate: ModelVersion) -> None:
    request = workflow.request_transition(users["dana"], candidate, "stage", "Staging", "a")

    with pytest.raises(workflow.InvalidRequest, match="a reason is required"):
        workflow.cancel_request(users["dana"], request.pk, "")


def test_evidence_survives_nan_and_infinite_metrics(users: dict[str, User]) -> None:
    version = make_version(
        make_source(), "odd", 1, metrics={"a": float("inf"), "b": float("-inf"), "c": float("nan")}
    )

    request = workflow.request_transition(users["dana"], version, "alias", "champion", "x")

    assert request.evidence["candidate"]["metrics"] == {
        "a": "Infinity",
        "b": "-Infinity",
        "c": "NaN",
    }
    assert request.evidence_hash == ledger.hash_text(ledger.canonical_bytes(request.evidence))
