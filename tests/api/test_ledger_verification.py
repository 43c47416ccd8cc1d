"""GET /api/v1/ledger/verification/: the same verification as ``verify_ledger``."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from pytest_django import Settings
from rest_framework.test import APIClient

from governance import ledger
from governance.models import LedgerEntry
from tests.api.conftest import ClientFor

pytestmark = pytest.mark.django_db
URL = "/api/v1/ledger/verification/"


@pytest.fixture(autouse=True)
def _own_checkpoint_folder(settings: Settings, tmp_path: Path) -> Iterator[None]:
    settings.LEDGER_CHECKPOINT_DIR = tmp_path / "checkpoints"
    yield


def _append(action: str) -> None:
    with transaction.atomic():
        ledger.append(ledger.EntryDraft(action=action, object_type="test", precision="recorded"))


def test_an_untouched_ledger_is_intact(client_for: ClientFor, erin: User) -> None:
    client = client_for(erin)
    _append("test.one")

    body = client.get(URL).json()

    assert body["intact"] is True
    assert body["problem"] is None
    assert body["entries"] == LedgerEntry.objects.count() == body["last_seq"]


def test_a_tampered_entry_is_named(
    client_for: ClientFor, erin: User, postgres_required: None
) -> None:
    client = client_for(erin)
    _append("test.one")
    _append("test.two")
    victim = LedgerEntry.objects.get(action="test.one")
    with connection.cursor() as cursor:
        # The triggers refuse UPDATE; a superuser can step past them (the test's
        # transaction is rolled back afterwards).
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "UPDATE governance_ledgerentry SET reason = 'edited' WHERE id = %s", [victim.pk]
        )
        cursor.execute("SET LOCAL session_replication_role = origin")

    body = client.get(URL).json()

    assert body["intact"] is False
    assert body["problem"]["seq"] == victim.seq


def test_it_refuses_anonymous_callers(anonymous: APIClient) -> None:
    assert anonymous.get(URL).status_code == 401


def test_it_refuses_a_user_without_a_role(client_for: ClientFor, nobody: User) -> None:
    assert client_for(nobody).get(URL).status_code == 403


def test_it_refuses_a_data_scientist_as_the_audit_export_does(
    client_for: ClientFor, dana: User
) -> None:
    response = client_for(dana).get(URL)

    assert response.status_code == 403
    assert response.json()["error"]["message"] == (
        "Only governance officers, executives and admins audit the ledger."
    )


def test_it_is_throttled_per_user(client_for: ClientFor, erin: User) -> None:
    client = client_for(erin)

    statuses = [client.get(URL).status_code for _ in range(7)]

    assert statuses == [200] * 6 + [429]
