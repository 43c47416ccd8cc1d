"""Admins see who holds which role and grant or revoke roles, never their own."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from governance.models import LedgerEntry
from governance.permissions import roles_of
from tests.registry_ui.conftest import client_for

pytestmark = pytest.mark.django_db


def test_it_lists_users_and_their_roles(adam: User, dana: User) -> None:
    response = client_for(adam).get("/access/")

    assert response.status_code == 200
    rows = dict(response.context["rows"])
    assert rows[dana] == ["data_scientist"]
    assert rows[adam] == ["admin"]
    assert "You cannot change your own roles." in response.content.decode()


def test_an_admin_grants_a_role_and_the_ledger_records_it(adam: User, dana: User) -> None:
    response = client_for(adam).post(
        f"/access/users/{dana.pk}/grant/", {"role": "executive", "reason": "Joins the board."}
    )

    assert response.status_code == 302
    assert roles_of(User.objects.get(pk=dana.pk)) == {"data_scientist", "executive"}
    entry = LedgerEntry.objects.get(action="role.granted")
    assert (entry.actor_name, entry.target, entry.reason) == (
        "Adam Admin",
        "executive",
        "Joins the board.",
    )
    assert entry.after == ["data_scientist", "executive"]
    page = client_for(adam).get("/access/")
    assert page.context["changes"][0].entry == entry


def test_an_admin_revokes_a_role(adam: User, dana: User) -> None:
    client_for(adam).post(
        f"/access/users/{dana.pk}/revoke/", {"role": "data_scientist", "reason": "Left the team."}
    )

    assert roles_of(User.objects.get(pk=dana.pk)) == frozenset()
    assert LedgerEntry.objects.get(action="role.revoked").before == ["data_scientist"]


def test_an_admin_cannot_grant_themselves_a_role(adam: User) -> None:
    response = client_for(adam).post(
        f"/access/users/{adam.pk}/grant/", {"role": "governance_officer", "reason": "Busy week."}
    )

    assert response.status_code == 403
    assert response.context["error"] == "Refused: nobody can change their own roles."
    assert roles_of(User.objects.get(pk=adam.pk)) == {"admin"}
    assert not LedgerEntry.objects.filter(action="role.granted").exists()
    assert LedgerEntry.objects.filter(action="security.action_refused").count() == 1


def test_it_needs_a_known_role_and_a_reason(adam: User, dana: User) -> None:
    no_reason = client_for(adam).post(f"/access/users/{dana.pk}/grant/", {"role": "executive"})
    bad_role = client_for(adam).post(
        f"/access/users/{dana.pk}/grant/", {"role": "superuser", "reason": "x"}
    )
    bad_change = client_for(adam).post(
        f"/access/users/{dana.pk}/promote/", {"role": "executive", "reason": "x"}
    )

    assert [no_reason.status_code, bad_role.status_code, bad_change.status_code] == [400] * 3
    assert roles_of(User.objects.get(pk=dana.pk)) == {"data_scientist"}


def test_it_sends_anonymous_visitors_to_the_login_page(client: Client) -> None:
    response = client.get("/access/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_refuses_an_officer(olivia: User, dana: User) -> None:
    assert client_for(olivia).get("/access/").status_code == 403
    response = client_for(olivia).post(
        f"/access/users/{dana.pk}/grant/", {"role": "executive", "reason": "x"}
    )
    assert response.status_code == 403
    assert roles_of(User.objects.get(pk=dana.pk)) == {"data_scientist"}
