"""Requirement 11: nobody gives themselves a role, by any path; changes are recorded."""

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.test import Client

from governance import roles
from governance.models import LedgerEntry
from tests.support.personas import ADAM, DANA, PASSWORD, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]


def _roles(user: User) -> set[str]:
    return set(User.objects.get(pk=user.pk).groups.values_list("name", flat=True))


@pytest.mark.parametrize("role", ["governance_officer", "admin", "data_scientist", "executive"])
def test_an_admin_cannot_grant_themselves_any_role(role: str) -> None:
    adam = make_user(ADAM)
    held = _roles(adam)

    with pytest.raises(PermissionDenied):
        roles.grant_role(adam, role, by=adam, reason="I need it")

    assert _roles(adam) == held
    refused = LedgerEntry.objects.get(action="security.action_refused")
    assert (refused.actor_username, refused.target) == ("adam", role)
    assert not LedgerEntry.objects.filter(action="role.granted").exists()


def test_a_non_admin_cannot_grant_themselves_a_role() -> None:
    dana = make_user(DANA)

    with pytest.raises(PermissionDenied):
        roles.grant_role(dana, "governance_officer", by=dana)

    assert _roles(dana) == {"data_scientist"}


def test_the_command_refuses_an_admin_naming_themselves() -> None:
    make_user(ADAM)

    with pytest.raises(CommandError):
        call_command("grant_role", "adam", "governance_officer", "--by", "adam")

    assert _roles(User.objects.get(username="adam")) == {"admin"}


def test_a_superuser_cannot_give_themselves_a_role_in_the_django_admin() -> None:
    boss = User.objects.create_superuser("boss", "boss@example.test", PASSWORD)
    officers = Group.objects.get_or_create(name="governance_officer")[0]
    client = Client()
    client.force_login(boss)
    url = f"/admin/auth/user/{boss.pk}/change/"
    form = client.get(url)

    client.post(
        url,
        {
            "username": "boss",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "groups": [officers.pk],
            "last_login_0": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    group_page = client.get(f"/admin/auth/group/{officers.pk}/change/")

    assert form.status_code == 200
    assert 'name="groups"' not in form.content.decode()
    assert _roles(boss) == set()
    assert 'name="permissions"' not in group_page.content.decode()
    assert client.get("/admin/auth/group/add/").status_code == 403


def test_every_role_change_is_recorded_with_who_made_it() -> None:
    adam, dana = make_user(ADAM), make_user(DANA)

    roles.grant_role(dana, "executive", by=adam, reason="board reports")
    roles.revoke_role(dana, "executive", by=adam, reason="no longer needed")
    roles.grant_role(dana, "executive", by=roles.Operator("root"), reason="restored")

    entries = list(LedgerEntry.objects.filter(action__startswith="role.").order_by("seq"))
    assert [(e.action, e.actor_username, e.actor_role) for e in entries] == [
        ("role.granted", "adam", "admin"),
        ("role.revoked", "adam", "admin"),
        ("role.granted", "", "system"),
    ]
    assert entries[2].details["os_user"] == "root"
    assert [(e.before, e.after) for e in entries] == [
        (["data_scientist"], ["data_scientist", "executive"]),
        (["data_scientist", "executive"], ["data_scientist"]),
        (["data_scientist"], ["data_scientist", "executive"]),
    ]
