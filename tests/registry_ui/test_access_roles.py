"""Admins see who holds which role and grant or revoke roles, never their own."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from governance.models import LedgerEntry, MlflowIdentity
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


def test_an_admin_links_and_unlinks_an_mlflow_name(adam: User, olivia: User) -> None:
    client = client_for(adam)

    linked = client.post(
        "/access/mlflow-names/",
        {"user": olivia.pk, "name": "opope@build-box", "reason": "Her CI account."},
    )
    identity = MlflowIdentity.objects.get()
    page = client.get("/access/")
    unlinked = client.post(
        f"/access/mlflow-names/{identity.pk}/unlink/", {"reason": "Account retired."}
    )

    assert (linked.status_code, unlinked.status_code) == (302, 302)
    assert (identity.user, identity.name) == (olivia, "opope@build-box")
    body = page.content.decode()
    assert '<th scope="row" class="mono">opope@build-box</th>' in body
    assert f'action="/access/mlflow-names/{identity.pk}/unlink/"' in body
    assert [row.action for row in page.context["changes"]][:1] == ["MLflow name linked"]
    assert not MlflowIdentity.objects.exists()
    assert list(
        LedgerEntry.objects.filter(action__startswith="identity.").values_list("action", "reason")
    ) == [("identity.linked", "Her CI account."), ("identity.unlinked", "Account retired.")]


@pytest.mark.parametrize(
    ("with_user", "name", "reason"),
    [(False, "x", "r"), (True, "", "r"), (True, "x", ""), (True, "x" * 251, "r")],
    ids=["no-user", "no-name", "no-reason", "long-name"],
)
def test_linking_needs_a_user_a_name_and_a_reason(
    adam: User, olivia: User, with_user: bool, name: str, reason: str
) -> None:
    data = {"name": name, "reason": reason, **({"user": olivia.pk} if with_user else {})}

    response = client_for(adam).post("/access/mlflow-names/", data)

    assert response.status_code == 400
    assert not MlflowIdentity.objects.exists()
    assert not LedgerEntry.objects.filter(action="identity.linked").exists()


def test_a_name_taken_by_someone_else_is_refused_with_its_holder(
    adam: User, olivia: User, dana: User
) -> None:
    client = client_for(adam)
    client.post("/access/mlflow-names/", {"user": olivia.pk, "name": "shared", "reason": "r"})

    response = client.post(
        "/access/mlflow-names/", {"user": dana.pk, "name": "SHARED", "reason": "r"}
    )

    assert response.status_code == 400
    assert "Not linked: the MLflow name &#x27;SHARED&#x27; is already linked to olivia." in (
        response.content.decode()
    )


def test_an_admin_cannot_link_or_unlink_their_own_names(adam: User, olivia: User) -> None:
    client = client_for(adam)

    response = client.post(
        "/access/mlflow-names/", {"user": adam.pk, "name": "adam-box", "reason": "r"}
    )

    assert response.status_code == 403
    assert not MlflowIdentity.objects.exists()
    assert LedgerEntry.objects.filter(action="security.action_refused").count() == 1


@pytest.mark.parametrize("persona", ["olivia", "dana", "erin"])
def test_only_admins_reach_the_mlflow_name_forms(
    request: pytest.FixtureRequest, persona: str, adam: User
) -> None:
    client = client_for(request.getfixturevalue(persona))

    response = client.post("/access/mlflow-names/", {"user": adam.pk, "name": "x", "reason": "r"})

    assert response.status_code == 403
    assert client.post("/access/mlflow-names/1/unlink/", {"reason": "r"}).status_code == 403
    assert not MlflowIdentity.objects.exists()


def test_the_mlflow_name_forms_need_the_csrf_token(adam: User, olivia: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(adam)

    response = client.post("/access/mlflow-names/", {"user": olivia.pk, "name": "x", "reason": "r"})

    assert response.status_code == 403
    assert not MlflowIdentity.objects.exists()
