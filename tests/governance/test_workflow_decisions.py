"""Signing decisions: separation of duties, passwords, risk tiers and the outbox."""

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance import evidence, workflow
from governance.models import (
    ApplyOutbox,
    Decision,
    LedgerEntry,
    ModelVersion,
    TransitionRequest,
)
from tests.support.mirror_rows import make_source, make_version
from tests.support.personas import ALL, PASSWORD, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]


@pytest.fixture
def users() -> dict[str, User]:
    return {persona.username: make_user(persona) for persona in ALL}


@pytest.fixture
def version() -> ModelVersion:
    return make_version(make_source(), "churn", 3, run_author="derek")


@pytest.fixture
def request_(users: dict[str, User], version: ModelVersion) -> TransitionRequest:
    return workflow.request_transition(users["dana"], version, "stage", "Production", "lift")


def _actions() -> list[str]:
    return list(LedgerEntry.objects.values_list("action", flat=True))


def _officer(user: User) -> User:
    user.groups.add(Group.objects.get_or_create(name="governance_officer")[0])
    return User.objects.get(pk=user.pk)


def test_an_officer_approves_with_a_signature_bound_to_the_evidence(
    users: dict[str, User], request_: TransitionRequest, version: ModelVersion
) -> None:
    decision = workflow.decide(users["olivia"], request_.pk, "approved", "checked", PASSWORD)

    assert (decision.signer_name, decision.meaning, decision.acting_role) == (
        "Olivia Pope",
        "approved",
        "governance_officer",
    )
    assert decision.signed_at <= timezone.now()
    bound = {**evidence.identity(version), "source_uri": version.source_uri}
    bound["run_id"] = version.run_id
    assert decision.binding_hash == evidence.binding_hash(bound, request_.evidence_hash)
    request_.refresh_from_db()
    assert request_.status == "approved"
    outbox = ApplyOutbox.objects.get(request=request_)
    assert outbox.status == "pending"
    entry = LedgerEntry.objects.last()
    assert entry is not None
    assert (entry.action, entry.actor_name, entry.actor_role, entry.reason) == (
        "decision.approved",
        "Olivia Pope",
        "governance_officer",
        "checked",
    )
    assert entry.after == {"status": "approved", "approvals": 1, "required": 1}
    assert entry.details["outbox_id"] == outbox.pk
    assert entry.details["binding_hash"] == decision.binding_hash


def test_an_officer_rejects_and_nothing_is_applied(
    users: dict[str, User], request_: TransitionRequest
) -> None:
    workflow.decide(users["olivia"], request_.pk, "rejected", "drift too high", PASSWORD)

    request_.refresh_from_db()
    assert request_.status == "rejected"
    assert not ApplyOutbox.objects.exists()
    assert _actions()[-1] == "decision.rejected"


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("derek", "only a governance officer can decide a request"),
        ("erin", "only a governance officer can decide a request"),
        ("adam", "an admin cannot decide requests; administrators manage access only"),
    ],
)
@pytest.mark.parametrize("meaning", ["approved", "rejected"])
def test_non_officers_cannot_decide(
    users: dict[str, User],
    request_: TransitionRequest,
    username: str,
    message: str,
    meaning: str,
) -> None:
    with pytest.raises(PermissionDenied, match=message):
        workflow.decide(users[username], request_.pk, meaning, "ok", PASSWORD)

    request_.refresh_from_db()
    assert request_.status == "pending"
    assert not Decision.objects.exists()
    assert _actions() == ["request.created", "security.action_refused"]
    refused = LedgerEntry.objects.last()
    assert refused is not None
    assert (refused.actor_username, refused.reason, refused.object_id) == (
        username,
        message,
        str(request_.pk),
    )


def test_it_rejects_self_approval(users: dict[str, User], request_: TransitionRequest) -> None:
    dana = _officer(users["dana"])

    with pytest.raises(PermissionDenied, match="the requester cannot decide their own request"):
        workflow.decide(dana, request_.pk, "approved", "mine", PASSWORD)

    assert not Decision.objects.exists()


def test_it_rejects_the_run_author_approving_production(
    users: dict[str, User], request_: TransitionRequest
) -> None:
    derek = _officer(users["derek"])

    with pytest.raises(PermissionDenied, match="author of the training run cannot approve"):
        workflow.decide(derek, request_.pk, "approved", "mine", PASSWORD)

    assert not Decision.objects.exists()


def test_it_rejects_a_run_author_named_by_email_and_records_the_refusal(
    users: dict[str, User],
) -> None:
    # Hosted tracking servers record the author as an e-mail address, in any case.
    version = make_version(make_source(), "churn", 3, run_author="Oscar@Example.TEST")
    request = workflow.request_transition(users["dana"], version, "stage", "Production", "lift")

    with pytest.raises(PermissionDenied, match="author of the training run cannot approve"):
        workflow.decide(users["oscar"], request.pk, "approved", "mine", PASSWORD)

    assert not Decision.objects.exists()
    refusal = LedgerEntry.objects.get(action="security.action_refused")
    assert refusal.actor_id == users["oscar"].pk
    decision = workflow.decide(users["olivia"], request.pk, "approved", "checked", PASSWORD)
    assert decision.officer_email == "olivia@example.test"


def test_the_run_author_may_approve_staging(users: dict[str, User], version: ModelVersion) -> None:
    derek = _officer(users["derek"])
    request = workflow.request_transition(users["dana"], version, "stage", "Staging", "try")

    decision = workflow.decide(derek, request.pk, "approved", "ok", PASSWORD)

    assert decision.officer_username == "derek"


def test_an_admin_who_is_also_an_officer_decides_as_officer(
    users: dict[str, User], request_: TransitionRequest
) -> None:
    adam = _officer(users["adam"])

    decision = workflow.decide(adam, request_.pk, "approved", "ok", PASSWORD)

    assert decision.acting_role == "governance_officer"


def test_it_refuses_a_wrong_password(users: dict[str, User], request_: TransitionRequest) -> None:
    with pytest.raises(PermissionDenied, match="the password did not match"):
        workflow.decide(users["olivia"], request_.pk, "approved", "ok", "guess")

    assert not Decision.objects.exists()
    refused = LedgerEntry.objects.last()
    assert refused is not None
    assert refused.action == "security.action_refused"
    assert "guess" not in refused.canonical


def test_it_requires_a_rationale_and_a_meaning(
    users: dict[str, User], request_: TransitionRequest
) -> None:
    with pytest.raises(workflow.InvalidRequest, match="a rationale is required"):
        workflow.decide(users["olivia"], request_.pk, "approved", "", PASSWORD)
    with pytest.raises(workflow.InvalidRequest, match="not 'maybe'"):
        workflow.decide(users["olivia"], request_.pk, "maybe", "x", PASSWORD)


def test_a_decided_request_answers_with_a_conflict(
    users: dict[str, User], request_: TransitionRequest
) -> None:
    workflow.decide(users["olivia"], request_.pk, "approved", "ok", PASSWORD)

    with pytest.raises(workflow.Conflict, match=f"request {request_.pk} is already approved"):
        workflow.decide(users["oscar"], request_.pk, "rejected", "no", PASSWORD)

    assert Decision.objects.count() == 1


def test_a_high_risk_model_needs_two_distinct_approvers(
    users: dict[str, User], version: ModelVersion
) -> None:
    workflow.set_risk_tier(users["olivia"], version.registered_model_id, "high", "credit decisions")
    request = workflow.request_transition(users["dana"], version, "stage", "Production", "lift")
    assert request.required_approvals == 2

    workflow.decide(users["olivia"], request.pk, "approved", "ok", PASSWORD)
    request.refresh_from_db()
    assert request.status == "pending"
    assert not ApplyOutbox.objects.exists()

    with pytest.raises(PermissionDenied, match=r"already signed .* an officer counts once"):
        workflow.decide(users["olivia"], request.pk, "approved", "again", PASSWORD)

    workflow.decide(users["oscar"], request.pk, "approved", "ok too", PASSWORD)
    request.refresh_from_db()
    assert request.status == "approved"
    assert ApplyOutbox.objects.filter(request=request).count() == 1
    last = LedgerEntry.objects.filter(action="decision.approved").last()
    assert last is not None
    assert last.after == {"status": "approved", "approvals": 2, "required": 2}


def test_a_rejection_after_one_approval_ends_a_high_risk_request(
    users: dict[str, User], version: ModelVersion
) -> None:
    workflow.set_risk_tier(users["olivia"], version.registered_model_id, "high", "credit")
    request = workflow.request_transition(users["dana"], version, "stage", "Production", "lift")
    workflow.decide(users["olivia"], request.pk, "approved", "ok", PASSWORD)

    workflow.decide(users["oscar"], request.pk, "rejected", "no", PASSWORD)

    request.refresh_from_db()
    assert request.status == "rejected"
    assert not ApplyOutbox.objects.exists()


def test_raising_the_risk_tier_applies_to_pending_requests(
    users: dict[str, User], request_: TransitionRequest
) -> None:
    workflow.set_risk_tier(users["oscar"], request_.registered_model_id, "high", "credit")

    request_.refresh_from_db()
    assert request_.required_approvals == 2
    entry = LedgerEntry.objects.last()
    assert entry is not None
    assert (entry.action, entry.before, entry.after, entry.actor_role) == (
        "model.risk_tier_set",
        {"risk_tier": "medium"},
        {"risk_tier": "high"},
        "governance_officer",
    )
    assert entry.details == {"required_approvals": 2, "pending_requests": [request_.pk]}


@pytest.mark.parametrize("username", ["dana", "erin", "adam"])
def test_only_officers_set_risk_tiers(
    users: dict[str, User], version: ModelVersion, username: str
) -> None:
    with pytest.raises(PermissionDenied, match="only a governance officer can set"):
        workflow.set_risk_tier(users[username], version.registered_model_id, "low", "x")

    version.registered_model.refresh_from_db()
    assert version.registered_model.risk_tier == "medium"
    assert _actions() == ["security.action_refused"]


def test_it_rejects_an_unknown_risk_tier(users: dict[str, User], version: ModelVersion) -> None:
    with pytest.raises(workflow.InvalidRequest, match="risk tier 'extreme' is not one of"):
        workflow.set_risk_tier(users["olivia"], version.registered_model_id, "extreme", "x")


def _raw_decision(request: TransitionRequest, officer: User, **overrides: str) -> None:
    fields = {
        "request": request,
        "officer": officer,
        "requester": request.requested_by,
        "officer_username": officer.get_username(),
        "run_author": request.run_author,
        "target": request.target,
        "acting_role": "governance_officer",
        "meaning": "approved",
        "rationale": "x",
        "signer_name": "x",
        "signed_at": timezone.now(),
        "binding_hash": "0" * 64,
    }
    fields.update(overrides)
    with transaction.atomic():
        Decision.objects.create(**fields)


@pytest.mark.parametrize(
    ("officer", "overrides"),
    [
        ("dana", {}),
        ("oscar", {"acting_role": "admin"}),
        ("derek", {}),
        ("oscar", {"officer_username": "DEREK"}),
        ("oscar", {"officer_email": "Derek@Example.test", "run_author": "derek@example.TEST"}),
    ],
    ids=[
        "requester",
        "as-admin",
        "run-author-to-production",
        "run-author-in-other-case",
        "run-author-by-email",
    ],
)
def test_the_database_refuses_conflicts_of_duty(
    users: dict[str, User], request_: TransitionRequest, officer: str, overrides: dict[str, str]
) -> None:
    with pytest.raises(IntegrityError):
        _raw_decision(request_, users[officer], **overrides)


def test_the_database_compares_run_authors_as_text_not_as_patterns(
    users: dict[str, User], request_: TransitionRequest
) -> None:
    # "_" and "%" are wildcards to LIKE; a run author spelled with them names nobody else.
    _raw_decision(request_, users["oscar"], run_author="osc_r")
    _raw_decision(request_, users["olivia"], run_author="%")


def test_the_database_refuses_an_officer_counting_twice(
    users: dict[str, User], request_: TransitionRequest
) -> None:
    _raw_decision(request_, users["oscar"])

    with pytest.raises(IntegrityError):
        _raw_decision(request_, users["oscar"])


def test_an_approval_whose_ledger_entry_fails_changes_nothing(
    users: dict[str, User], request_: TransitionRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_append(draft: object) -> None:
        raise RuntimeError("ledger unavailable")

    monkeypatch.setattr("governance.workflow.ledger.append", broken_append)

    with pytest.raises(RuntimeError, match="ledger unavailable"):
        workflow.decide(users["olivia"], request_.pk, "approved", "ok", PASSWORD)

    request_.refresh_from_db()
    assert request_.status == "pending"
    assert not Decision.objects.exists()
    assert not ApplyOutbox.objects.exists()
