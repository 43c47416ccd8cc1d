"""Failed logins are ledger entries naming the attempted user and the client, never the password."""

import pytest
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse

from governance.models import LedgerEntry
from tests.support.personas import DANA, PASSWORD, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

WRONG = "not-the-password-hunter2"


def test_it_records_a_failed_login_with_the_client_address() -> None:
    make_user(DANA)

    response = Client(REMOTE_ADDR="203.0.113.7").post(
        reverse("login"), {"username": "dana", "password": WRONG}
    )

    assert response.status_code == 200
    entry = LedgerEntry.objects.get(action="security.login_failed")
    assert (entry.object_type, entry.object_id) == ("user", "dana")
    assert entry.details == {"attempted_username": "dana", "path": "/accounts/login/"}
    assert entry.client_address == "203.0.113.7"
    assert entry.request_id
    assert WRONG not in entry.canonical
    assert "password" not in entry.canonical


def test_it_records_attempts_for_unknown_users_outside_requests() -> None:
    # django-axes needs a request to authenticate at all; a bare one has no address.
    assert authenticate(HttpRequest(), username="<script>mallory</script>", password=WRONG) is None

    entry = LedgerEntry.objects.get(action="security.login_failed")
    assert entry.object_id == "<script>mallory</script>"
    assert entry.client_address == ""


def test_it_bounds_an_enormous_username() -> None:
    authenticate(HttpRequest(), username="x" * 10_000, password=WRONG)

    entry = LedgerEntry.objects.get(action="security.login_failed")
    assert entry.details["attempted_username"] == "x" * 256
    assert entry.details["attempted_username_length"] == 10_000


def test_it_records_nothing_for_a_successful_login() -> None:
    make_user(DANA)

    response = Client().post(reverse("login"), {"username": "dana", "password": PASSWORD})

    assert response.status_code == 302
    assert not LedgerEntry.objects.filter(action="security.login_failed").exists()
