"""Appending to the ledger: sequence, links, hashes and refusal of secrets."""

import pytest
from django.db import transaction

from governance import ledger
from governance.models import LedgerEntry

pytestmark = pytest.mark.django_db


def _draft(action: str = "test.action", **extra: object) -> ledger.EntryDraft:
    return ledger.EntryDraft(
        action=action,
        object_type="test",
        precision="recorded",
        **extra,  # type: ignore[arg-type]
    )


def test_it_chains_entries_in_sequence() -> None:
    with transaction.atomic():
        first = ledger.append(_draft(after={"value": float("nan")}))
        second = ledger.append(_draft(reason="because"))

    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == ledger.GENESIS_HASH
    assert second.prev_hash == first.entry_hash
    stored = LedgerEntry.objects.get(seq=1)
    assert ledger.hash_text(stored.canonical) == stored.entry_hash
    assert ledger.canonical_bytes(ledger.entry_payload(stored)) == stored.canonical
    assert stored.after == {"value": "NaN"}


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_append_outside_a_transaction() -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        ledger.append(_draft())


def test_it_refuses_secrets_in_entries() -> None:
    with transaction.atomic(), pytest.raises(ValueError, match=r"details\.api_token"):
        ledger.append(_draft(details={"api_token": "abc"}))
    assert not LedgerEntry.objects.exists()
