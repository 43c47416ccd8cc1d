"""Requirement 3: no role of the application can edit or remove an entry."""

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from governance import ledger
from governance.api.tokens import create_api_token
from governance.models import LedgerEntry
from tests.support.personas import ERIN, PASSWORD, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]


def _entry() -> LedgerEntry:
    with transaction.atomic():
        return ledger.append(
            ledger.EntryDraft(
                action="test.original", object_type="test", precision="recorded", reason="first"
            )
        )


def test_a_superuser_can_neither_add_change_nor_delete_entries_in_the_django_admin() -> None:
    entry = _entry()
    boss = User.objects.create_superuser("boss", "boss@example.test", PASSWORD)
    client = Client()
    client.force_login(boss)
    base = "/admin/governance/ledgerentry/"

    listing = client.get(base)
    added = client.post(f"{base}add/", {"action": "forged", "seq": 99})
    changed = client.post(f"{base}{entry.pk}/change/", {"reason": "edited"})
    deleted = client.post(f"{base}{entry.pk}/delete/", {"post": "yes"})
    bulk = client.post(base, {"action": "delete_selected", "_selected_action": [entry.pk]})

    assert listing.status_code == 200
    assert (added.status_code, deleted.status_code) == (403, 403)
    assert changed.status_code in (302, 403)
    assert bulk.status_code in (200, 302)
    assert list(LedgerEntry.objects.values_list("seq", "action", "reason")) == [
        (entry.seq, "test.original", "first")
    ]


def test_the_api_offers_no_way_to_write_an_entry() -> None:
    erin = make_user(ERIN)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {create_api_token(erin, 'a', by=erin).secret}")

    schema = client.get("/api/schema/", {"format": "json"}).json()

    writes = {
        (path, method)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in {"post", "put", "patch", "delete"}
    }
    assert writes, "the schema lists the workflow's writes"
    for path, method in writes:
        assert "ledger" not in path and "timeline" not in path, (path, method)
