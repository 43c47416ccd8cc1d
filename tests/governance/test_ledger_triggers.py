"""The database itself refuses to change or remove ledger entries on PostgreSQL."""

import pytest
from django.db import DatabaseError, connection, transaction

from governance import ledger
from governance.models import LedgerEntry

pytestmark = pytest.mark.django_db(transaction=True)


def _append_two() -> None:
    with transaction.atomic():
        ledger.append_many(
            [
                ledger.EntryDraft(action="test.first", object_type="test", precision="recorded"),
                ledger.EntryDraft(action="test.second", object_type="test", precision="recorded"),
            ]
        )


@pytest.mark.usefixtures("postgres_required")
@pytest.mark.parametrize(
    ("statement", "operation"),
    [
        ("UPDATE governance_ledgerentry SET reason = 'edited' WHERE seq = 1", "UPDATE"),
        ("DELETE FROM governance_ledgerentry WHERE seq = 2", "DELETE"),
        ("TRUNCATE governance_ledgerentry CASCADE", "TRUNCATE"),
    ],
)
def test_it_refuses_changes_to_entries(statement: str, operation: str) -> None:
    _append_two()

    refused = f"append-only: {operation} of governance_ledgerentry"
    with (
        pytest.raises(DatabaseError, match=refused),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)

    assert list(LedgerEntry.objects.values_list("seq", "reason")) == [(1, ""), (2, "")]


@pytest.mark.usefixtures("postgres_required")
def test_it_refuses_orm_updates_and_deletes() -> None:
    _append_two()

    with pytest.raises(DatabaseError, match="append-only: UPDATE"), transaction.atomic():
        LedgerEntry.objects.filter(seq=1).update(reason="edited")
    with pytest.raises(DatabaseError, match="append-only: DELETE"), transaction.atomic():
        LedgerEntry.objects.filter(seq=2).delete()

    assert LedgerEntry.objects.count() == 2


def test_it_still_accepts_appends() -> None:
    _append_two()
    _append_two()

    assert list(LedgerEntry.objects.values_list("seq", flat=True)) == [1, 2, 3, 4]
