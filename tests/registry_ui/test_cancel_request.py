"""Cancelling a pending request: its requester only, with a reason."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from governance.models import LedgerEntry, TransitionRequest
from tests.registry_ui import workflow_data
from tests.registry_ui.conftest import client_for
from tests.support import personas

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(dana: User) -> TransitionRequest:
    return workflow_data.requested(dana, workflow_data.pair().candidate)


def url(transition: TransitionRequest) -> str:
    return f"/requests/{transition.pk}/cancel/"


def test_the_requester_cancels_with_a_reason(dana: User, pending: TransitionRequest) -> None:
    response = client_for(dana).post(url(pending), {"reason": "Found a leak in the features."})

    assert response.status_code == 302
    assert response["Location"] == "/requests/mine/"
    pending.refresh_from_db()
    assert pending.status == "cancelled"
    entry = LedgerEntry.objects.get(action="request.cancelled")
    assert (entry.actor_name, entry.reason) == ("Dana Scully", "Found a leak in the features.")


def test_it_needs_a_reason(dana: User, pending: TransitionRequest) -> None:
    response = client_for(dana).post(url(pending), {"reason": ""}, follow=True)

    assert [str(m) for m in response.context["messages"]] == [
        "Give a reason to cancel the request; nothing was changed."
    ]
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_another_data_scientist_is_refused(pending: TransitionRequest) -> None:
    derek = personas.make_user(personas.DEREK)

    response = client_for(derek).post(url(pending), {"reason": "Not mine but whatever."})

    assert response.status_code == 403
    assert "Only the requester can cancel a request." in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == "pending"
    assert LedgerEntry.objects.filter(action="security.action_refused").count() == 1


def test_it_only_accepts_post(dana: User, pending: TransitionRequest) -> None:
    assert client_for(dana).get(url(pending)).status_code == 405


def test_it_sends_anonymous_visitors_to_the_login_page(
    client: Client, pending: TransitionRequest
) -> None:
    response = client.post(url(pending), {"reason": "x"})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_user_without_a_role_is_refused(nobody: User, pending: TransitionRequest) -> None:
    assert client_for(nobody).post(url(pending), {"reason": "x"}).status_code == 403
