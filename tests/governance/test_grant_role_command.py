"""The grant_role and revoke_role management commands."""

import getpass
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from governance import permissions
from governance.models import LedgerEntry
from tests.support.personas import ADAM, DANA, OLIVIA, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]


def test_it_grants_a_role_as_the_system_naming_the_os_user() -> None:
    dana = make_user(DANA)
    out = StringIO()

    call_command("grant_role", "dana", "governance_officer", stdout=out)

    assert out.getvalue() == "granted governance_officer for dana\n"
    assert permissions.roles_of(dana) == {"data_scientist", "governance_officer"}
    entry = LedgerEntry.objects.get()
    assert (entry.action, entry.actor_role) == ("role.granted", "system")
    assert entry.details["os_user"] == getpass.getuser()


def test_it_grants_a_role_on_behalf_of_an_admin() -> None:
    make_user(ADAM)
    make_user(DANA)

    call_command("grant_role", "dana", "executive", "--by", "adam", stdout=StringIO())

    entry = LedgerEntry.objects.get()
    assert (entry.actor_username, entry.actor_role, entry.target) == ("adam", "admin", "executive")


def test_it_refuses_a_non_admin_named_with_by() -> None:
    make_user(OLIVIA)
    make_user(DANA)

    with pytest.raises(CommandError, match="refused: only an admin can grant or revoke roles"):
        call_command("grant_role", "dana", "executive", "--by", "olivia")


def test_it_refuses_an_admin_granting_themselves() -> None:
    make_user(ADAM)

    with pytest.raises(CommandError, match="refused: nobody can change their own roles"):
        call_command("grant_role", "adam", "governance_officer", "--by", "adam")


def test_it_revokes_a_role() -> None:
    olivia = make_user(OLIVIA)
    out = StringIO()

    call_command("revoke_role", "olivia", "governance_officer", stdout=out)

    assert out.getvalue() == "revoked governance_officer for olivia\n"
    assert permissions.roles_of(olivia) == frozenset()


def test_it_says_when_there_is_nothing_to_do() -> None:
    make_user(DANA)
    out = StringIO()

    call_command("revoke_role", "dana", "executive", stdout=out)

    assert out.getvalue() == "nothing to do: dana does not hold executive\n"
    assert not LedgerEntry.objects.exists()


def test_it_rejects_an_unknown_user_and_role() -> None:
    with pytest.raises(CommandError, match="no user named 'ghost'"):
        call_command("grant_role", "ghost", "executive")
    with pytest.raises(CommandError, match="invalid choice: 'wizard'"):
        call_command("grant_role", "ghost", "wizard")
