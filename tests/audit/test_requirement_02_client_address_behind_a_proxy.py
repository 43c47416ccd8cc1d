"""Requirement 2, "where": behind a trusted reverse proxy an entry names the client."""

import ipaddress
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import Settings
from rest_framework.test import APIClient

from governance.api.tokens import create_api_token
from governance.models import LedgerEntry
from tests.support.mirror_rows import make_source, make_version
from tests.support.personas import DANA, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

PROXY = "10.20.0.5"
CLIENT = "198.51.100.20"
# What the client itself put in the header, before the proxy appended its address.
SPOOFED = "192.0.2.66"


@pytest.fixture
def behind_proxy(settings: Settings) -> None:
    settings.TRUSTED_PROXIES = (ipaddress.ip_network("10.20.0.0/16"),)


def _via_proxy(forwarded: str) -> dict[str, Any]:
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": forwarded}


@pytest.mark.usefixtures("behind_proxy")
def test_an_api_change_behind_a_trusted_proxy_names_the_client() -> None:
    dana = make_user(DANA)
    version = make_version(make_source(), "req02-proxied", 1)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {create_api_token(dana, 'ci', by=dana).secret}")

    response = api.post(
        "/api/v1/requests/",
        {
            "model_version": version.pk,
            "target_kind": "stage",
            "target": "Staging",
            "rationale": "Ready for shadow traffic.",
        },
        format="json",
        **_via_proxy(f"{SPOOFED}, {CLIENT}"),
    )

    assert response.status_code == 201
    entry = LedgerEntry.objects.get(action="request.created")
    assert entry.client_address == CLIENT
    assert SPOOFED not in entry.canonical


@pytest.mark.usefixtures("behind_proxy")
def test_a_failed_login_behind_a_trusted_proxy_names_the_client() -> None:
    Client(**_via_proxy(f"{SPOOFED}, {CLIENT}")).post(
        reverse("login"), {"username": "mallory", "password": "guess"}
    )
    Client(**_via_proxy("garbage")).post(
        reverse("login"), {"username": "mallory", "password": "guess"}
    )

    entries = LedgerEntry.objects.filter(action="security.login_failed").order_by("seq")
    # A header the proxy did not write cleanly names the proxy rather than a guess.
    assert [entry.client_address for entry in entries] == [CLIENT, PROXY]


def test_without_trusted_proxies_a_forwarded_header_is_ignored() -> None:
    Client(**_via_proxy(CLIENT)).post(
        reverse("login"), {"username": "mallory", "password": "guess"}
    )

    assert LedgerEntry.objects.get(action="security.login_failed").client_address == PROXY
