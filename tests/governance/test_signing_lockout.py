"""Wrong signing passwords lock an officer's signing for a while, counted from the ledger."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from pytest_django import Settings

from governance import workflow
from governance.models import Decision, LedgerEntry, TransitionRequest
from tests.support.mirror_rows import make_source, make_version
from tests.support.personas import ALL, PASSWORD, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]


@pytest.fixture(autouse=True)
def _limits(settings: Settings) -> None:
    settings.SIGNING_MAX_FAILURES = 3
    settings.SIGNING_LOCKOUT_MINUTES = 15


@pytest.fixture
def users() -> dict[str, User]:
    return {persona.username: make_user(persona) for persona in ALL}


@pytest.fixture
def request_(users: dict[str, User]) -> TransitionRequest:
    version = make_version(make_source(), "churn", 3, run_author="derek")
    return workflow.request_transition(users["dana"], version, "stage", "Staging", "lift")


def _fail(user: User, request_: TransitionRequest, times: int) -> None:
    for _ in range(times):
        with pytest.raises(workflow.SignatureRefused, match="the password did not match"):
            workflow.decide(user, request_.pk, "approved", "ok", "guess")


def test_the_limit_of_wrong_passwords_locks_signing_even_with_the_right_one(
    users: dict[str, User], request_: TransitionRequest
) -> None:
    olivia = users["olivia"]
    _fail(olivia, request_, 3)

    with pytest.raises(workflow.SignatureRefused, match="signing is locked until"):
        workflow.decide(olivia, request_.pk, "approved", "ok", PASSWORD)

    assert not Decision.objects.exists()
    reasons = list(
        LedgerEntry.objects.filter(action="security.action_refused").values_list(
            "reason", flat=True
        )
    )
    assert reasons.count(workflow.WRONG_SIGNATURE) == 3
    assert "too many wrong passwords" in reasons[-1]


def test_fewer_failures_than_the_limit_still_sign(
    users: dict[str, User], request_: TransitionRequest
) -> None:
    olivia = users["olivia"]
    _fail(olivia, request_, 2)

    decision = workflow.decide(olivia, request_.pk, "approved", "ok", PASSWORD)

    assert decision.officer_username == "olivia"


def test_one_officers_failures_do_not_lock_another(
    users: dict[str, User], request_: TransitionRequest
) -> None:
    _fail(users["olivia"], request_, 3)
    oscar = users["oscar"]

    decision = workflow.decide(oscar, request_.pk, "approved", "ok", PASSWORD)

    assert decision.officer_username == "oscar"


def test_the_lock_lifts_once_the_oldest_failure_leaves_the_window(
    users: dict[str, User], request_: TransitionRequest
) -> None:
    olivia = users["olivia"]
    _fail(olivia, request_, 3)
    oldest = LedgerEntry.objects.filter(reason=workflow.WRONG_SIGNATURE).earliest("seq")

    locked_until = workflow.signing_locked_until(olivia)

    assert locked_until == oldest.recorded_at + timedelta(minutes=15)
    assert workflow.signing_locked_until(olivia, now=locked_until - timedelta(seconds=1))
    assert workflow.signing_locked_until(olivia, now=locked_until + timedelta(seconds=1)) is None
    assert locked_until > timezone.now()


def test_a_lock_is_a_permission_refusal_for_callers_that_know_no_better(
    users: dict[str, User], request_: TransitionRequest
) -> None:
    _fail(users["olivia"], request_, 3)

    with pytest.raises(PermissionDenied):
        workflow.decide(users["olivia"], request_.pk, "rejected", "no", PASSWORD)
