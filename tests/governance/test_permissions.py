"""The permission module: every role against every action, and the duty rules."""

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from governance import permissions
from governance.models import LedgerEntry, TransitionRequest
from governance.permissions import Verdict
from tests.support.mirror_rows import make_source, make_version
from tests.support.personas import ADAM, ALL, DANA, DEREK, ERIN, OLIVIA, OSCAR, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

ROLE_HOLDER = {
    "data_scientist": DANA,
    "governance_officer": OLIVIA,
    "executive": ERIN,
    "admin": ADAM,
}


@pytest.fixture
def users() -> dict[str, User]:
    return {persona.username: make_user(persona) for persona in ALL}


@pytest.fixture
def pending(users: dict[str, User]) -> TransitionRequest:
    version = make_version(make_source(), "churn", run_author="derek")
    return TransitionRequest.objects.create(
        registered_model=version.registered_model,
        model_version=version,
        target_kind="stage",
        target="Production",
        requested_by=users["dana"],
        rationale="better recall",
        created_at=timezone.now(),
        evidence={},
        evidence_hash="0" * 64,
        run_author="derek",
    )


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("data_scientist", True),
        ("governance_officer", False),
        ("executive", False),
        ("admin", False),
    ],
)
def test_only_data_scientists_may_request(
    users: dict[str, User], pending: TransitionRequest, role: str, allowed: bool
) -> None:
    verdict = permissions.can_request(users[ROLE_HOLDER[role].username], pending.model_version)

    assert verdict.allowed is allowed
    if not allowed:
        assert verdict.reason == "only a data scientist can request a transition"


@pytest.mark.parametrize(
    ("role", "reason"),
    [
        ("data_scientist", "only a governance officer can decide a request"),
        ("governance_officer", ""),
        ("executive", "only a governance officer can decide a request"),
        ("admin", "an admin cannot decide requests; administrators manage access only"),
    ],
)
def test_only_governance_officers_may_decide(
    users: dict[str, User], pending: TransitionRequest, role: str, reason: str
) -> None:
    user = users[ROLE_HOLDER[role].username]
    if role == "data_scientist":
        user = users[DEREK.username]

    verdict = permissions.can_decide(user, pending)

    assert verdict.allowed is (not reason)
    assert verdict.reason == (reason or "allowed")
    if verdict.allowed:
        assert verdict.role == "governance_officer"


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("data_scientist", False),
        ("governance_officer", True),
        ("executive", False),
        ("admin", False),
    ],
)
def test_only_governance_officers_may_set_the_risk_tier(
    users: dict[str, User], pending: TransitionRequest, role: str, allowed: bool
) -> None:
    verdict = permissions.can_set_risk_tier(
        users[ROLE_HOLDER[role].username], pending.registered_model
    )

    assert verdict.allowed is allowed


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("data_scientist", False),
        ("governance_officer", False),
        ("executive", False),
        ("admin", True),
    ],
)
def test_only_admins_may_manage_roles(users: dict[str, User], role: str, allowed: bool) -> None:
    verdict = permissions.can_manage_roles(users[ROLE_HOLDER[role].username], users["derek"])

    assert verdict.allowed is allowed
    if not allowed:
        assert verdict.reason == "only an admin can grant or revoke roles"


@pytest.mark.parametrize("role", ["data_scientist", "governance_officer", "executive", "admin"])
def test_every_role_may_view(users: dict[str, User], role: str) -> None:
    assert permissions.can_view(users[ROLE_HOLDER[role].username]).allowed


def test_a_user_without_a_role_may_do_nothing(pending: TransitionRequest) -> None:
    nobody = User.objects.create_user("nobody", password="x")

    assert not permissions.can_view(nobody)
    assert not permissions.can_request(nobody, pending.model_version)
    assert not permissions.can_decide(nobody, pending)
    assert not permissions.can_cancel(nobody, pending)


def test_an_inactive_user_holds_no_role(users: dict[str, User]) -> None:
    olivia = users["olivia"]
    olivia.is_active = False

    assert permissions.roles_of(olivia) == frozenset()


def test_a_superuser_without_a_role_cannot_decide(pending: TransitionRequest) -> None:
    root = User.objects.create_superuser("root", password="x")

    verdict = permissions.can_decide(root, pending)

    assert verdict.reason == "only a governance officer can decide a request"


def test_the_requester_cannot_decide_their_own_request(
    users: dict[str, User], pending: TransitionRequest
) -> None:
    dana = users["dana"]
    dana.groups.add(Group.objects.get_or_create(name="governance_officer")[0])

    verdict = permissions.can_decide(dana, pending)

    assert verdict.reason == "the requester cannot decide their own request"


def test_the_run_author_cannot_approve_promotion_to_production(
    users: dict[str, User], pending: TransitionRequest
) -> None:
    derek = users["derek"]
    derek.groups.add(Group.objects.get_or_create(name="governance_officer")[0])

    verdict = permissions.can_decide(derek, pending)

    assert verdict.reason == (
        "the author of the training run cannot approve its promotion to Production"
    )


@pytest.mark.parametrize(
    "author",
    ["DEREK", "derek@example.test", " Derek@Example.TEST "],
    ids=["username-in-other-case", "email", "email-in-other-case"],
)
def test_the_run_author_is_recognised_by_email_and_in_any_case(
    users: dict[str, User], pending: TransitionRequest, author: str
) -> None:
    derek = users["derek"]
    derek.groups.add(Group.objects.get_or_create(name="governance_officer")[0])
    pending.run_author = author

    assert not permissions.can_decide(derek, pending)
    assert permissions.can_decide(users["olivia"], pending)


def test_an_officer_without_an_email_is_not_taken_for_an_author_without_one(
    users: dict[str, User], pending: TransitionRequest
) -> None:
    olivia = users["olivia"]
    olivia.email = ""
    pending.run_author = ""

    assert permissions.can_decide(olivia, pending)


def test_the_run_author_may_decide_other_targets(
    users: dict[str, User], pending: TransitionRequest
) -> None:
    derek = users["derek"]
    derek.groups.add(Group.objects.get_or_create(name="governance_officer")[0])
    pending.target = "Staging"

    assert permissions.can_decide(derek, pending).allowed


def test_an_admin_who_is_also_an_officer_decides_as_officer(
    users: dict[str, User], pending: TransitionRequest
) -> None:
    adam = users["adam"]
    adam.groups.add(Group.objects.get_or_create(name="governance_officer")[0])

    verdict = permissions.can_decide(adam, pending)

    assert verdict == Verdict(True, "allowed", "governance_officer")


def test_only_the_requester_may_cancel(users: dict[str, User], pending: TransitionRequest) -> None:
    assert permissions.can_cancel(users["dana"], pending).allowed
    assert permissions.can_cancel(users["derek"], pending).reason == (
        "only the requester can cancel a request"
    )
    assert permissions.can_cancel(users[OSCAR.username], pending).reason == (
        "only the requester can cancel a request"
    )


def test_nobody_may_change_their_own_roles(users: dict[str, User]) -> None:
    adam = users["adam"]

    assert permissions.can_manage_roles(adam, adam).reason == "nobody can change their own roles"


def test_require_raises_the_reason(users: dict[str, User]) -> None:
    verdict = permissions.can_manage_roles(users["erin"], users["dana"])

    with pytest.raises(PermissionDenied, match="only an admin can grant or revoke roles"):
        permissions.require(verdict)


def test_refuse_records_a_security_entry_and_raises(users: dict[str, User]) -> None:
    verdict = permissions.can_manage_roles(users["erin"], users["dana"])

    with pytest.raises(PermissionDenied, match="only an admin"):
        permissions.refuse(users["erin"], "role.granted", verdict, object_type="user")

    entry = LedgerEntry.objects.get()
    assert (entry.action, entry.actor_username, entry.actor_role) == (
        "security.action_refused",
        "erin",
        "executive",
    )
    assert entry.reason == "only an admin can grant or revoke roles"
    assert entry.details == {"attempted": "role.granted"}
