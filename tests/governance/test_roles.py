"""Granting and revoking roles: admins only, never for oneself, always on the ledger."""

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied

from governance import permissions
from governance.models import LedgerEntry
from governance.roles import Operator, grant_role, revoke_role
from tests.support.personas import ADAM, DANA, ERIN, OLIVIA, Persona, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]


def test_an_admin_grants_a_role_and_the_ledger_names_them() -> None:
    adam, dana = make_user(ADAM), make_user(DANA)

    assert grant_role(dana, "governance_officer", by=adam, reason="joined risk team")

    assert permissions.roles_of(dana) == {"data_scientist", "governance_officer"}
    entry = LedgerEntry.objects.get()
    assert (entry.action, entry.actor_username, entry.actor_name, entry.actor_role) == (
        "role.granted",
        "adam",
        "Adam Admin",
        "admin",
    )
    assert entry.before == ["data_scientist"]
    assert entry.after == ["data_scientist", "governance_officer"]
    assert (entry.object_id, entry.target, entry.reason) == (
        str(dana.pk),
        "governance_officer",
        "joined risk team",
    )


def test_an_admin_revokes_a_role() -> None:
    adam, olivia = make_user(ADAM), make_user(OLIVIA)

    assert revoke_role(olivia, "governance_officer", by=adam)

    assert permissions.roles_of(olivia) == frozenset()
    entry = LedgerEntry.objects.get()
    assert (entry.action, entry.before, entry.after) == (
        "role.revoked",
        ["governance_officer"],
        [],
    )


def test_granting_a_held_role_changes_nothing() -> None:
    adam, dana = make_user(ADAM), make_user(DANA)

    assert not grant_role(dana, "data_scientist", by=adam)

    assert not LedgerEntry.objects.exists()


def test_nobody_can_grant_themselves_a_role() -> None:
    adam = make_user(ADAM)

    with pytest.raises(PermissionDenied, match="nobody can change their own roles"):
        grant_role(adam, "governance_officer", by=adam)

    assert permissions.roles_of(adam) == {"admin"}
    entry = LedgerEntry.objects.get()
    assert (entry.action, entry.details) == (
        "security.action_refused",
        {"attempted": "role.granted"},
    )


@pytest.mark.parametrize("persona", [DANA, OLIVIA, ERIN], ids=lambda p: p.roles[0])
def test_only_admins_can_grant_roles(persona: Persona) -> None:
    actor = make_user(persona)
    subject = User.objects.create_user("sam", password="x")

    with pytest.raises(PermissionDenied, match="only an admin can grant or revoke roles"):
        grant_role(subject, "governance_officer", by=actor)

    assert permissions.roles_of(subject) == frozenset()
    assert list(LedgerEntry.objects.values_list("action", flat=True)) == ["security.action_refused"]


def test_an_operator_is_recorded_as_the_system_with_the_os_user() -> None:
    dana = make_user(DANA)

    grant_role(dana, "executive", by=Operator("root"))

    entry = LedgerEntry.objects.get()
    assert (entry.actor_id, entry.actor_role) == (None, "system")
    assert entry.details == {"subject_username": "dana", "role": "executive", "os_user": "root"}


def test_it_rejects_an_unknown_role() -> None:
    adam, dana = make_user(ADAM), make_user(DANA)

    with pytest.raises(ValueError, match="unknown role 'root'"):
        grant_role(dana, "root", by=adam)


@pytest.mark.parametrize("persona", [DANA, OLIVIA, ERIN], ids=lambda p: p.roles[0])
def test_only_admins_can_revoke_roles(persona: Persona) -> None:
    actor = make_user(persona)
    subject = make_user(ADAM)

    with pytest.raises(PermissionDenied, match="only an admin can grant or revoke roles"):
        revoke_role(subject, "admin", by=actor)

    assert permissions.roles_of(subject) == {"admin"}
    refused = LedgerEntry.objects.get()
    assert refused.details == {"attempted": "role.revoked"}
