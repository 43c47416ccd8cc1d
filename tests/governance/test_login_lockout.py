"""Repeated failed logins lock one username from one address out (django-axes), on the ledger."""

from ipaddress import ip_network

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import Settings

from governance.models import LedgerEntry
from tests.support.personas import DANA, PASSWORD, make_user

pytestmark = pytest.mark.django_db

WRONG = "not-the-password-hunter2"


@pytest.fixture(autouse=True)
def _limit(settings: Settings, fast_password_hasher: None) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    make_user(DANA)


def _log_in(client: Client, password: str) -> int:
    response = client.post(reverse("login"), {"username": "dana", "password": password})
    return int(response.status_code)


def test_the_limit_locks_the_login_out_even_with_the_right_password() -> None:
    client = Client(REMOTE_ADDR="203.0.113.7")
    assert [_log_in(client, WRONG) for _ in range(2)] == [200, 200]

    locked = client.post(reverse("login"), {"username": "dana", "password": WRONG})
    right = client.post(reverse("login"), {"username": "dana", "password": PASSWORD})

    assert locked.status_code == right.status_code == 429
    assert "Too many failed logins" in right.content.decode()
    assert "_auth_user_id" not in client.session
    entry = LedgerEntry.objects.filter(action="security.login_locked_out").last()
    assert entry is not None
    assert (entry.object_id, entry.client_address) == ("dana", "203.0.113.7")
    assert PASSWORD not in entry.canonical


def test_another_address_still_logs_in() -> None:
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(3):
        _log_in(attacker, WRONG)

    assert _log_in(Client(REMOTE_ADDR="198.51.100.20"), PASSWORD) == 302


def test_a_successful_login_starts_the_count_again() -> None:
    client = Client(REMOTE_ADDR="203.0.113.7")
    _log_in(client, WRONG)
    _log_in(client, WRONG)
    assert _log_in(client, PASSWORD) == 302
    client.logout()

    assert [_log_in(client, WRONG) for _ in range(2)] == [200, 200]
    assert _log_in(client, PASSWORD) == 302


def test_behind_a_trusted_proxy_the_lock_follows_the_real_client(settings: Settings) -> None:
    settings.TRUSTED_PROXIES = (ip_network("10.0.0.0/8"),)
    first = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.7")
    for _ in range(3):
        _log_in(first, WRONG)

    same_client = Client(REMOTE_ADDR="10.0.0.3", HTTP_X_FORWARDED_FOR="203.0.113.7")
    other_client = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.20")

    assert _log_in(same_client, PASSWORD) == 429
    assert _log_in(other_client, PASSWORD) == 302
