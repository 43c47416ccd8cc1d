"""Verifying in worker processes gives the same verdicts as one process (PostgreSQL)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection, transaction
from pytest_django import Settings

from governance import ledger, ledger_verify
from governance.models import LedgerEntry

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_required")]


@pytest.fixture(autouse=True)
def _small_ledgers_in_parallel(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[None]:
    settings.LEDGER_SIGNING_KEY = "33" * 32
    settings.LEDGER_CHECKPOINT_DIR = tmp_path
    monkeypatch.setattr(ledger_verify, "PARALLEL_MIN_ENTRIES", 1)
    for batch in range(4):
        with transaction.atomic():
            ledger.append_many(
                [
                    ledger.EntryDraft(
                        action="test.event",
                        object_type="test",
                        object_id=f"{batch}-{index}",
                        precision="recorded",
                        after={"index": index},
                    )
                    for index in range(10)
                ]
            )
    yield


def _tamper(statement: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(statement)


def _verdicts() -> tuple[str, str]:
    single = ledger_verify.verify_ledger(workers=1)
    parallel = ledger_verify.verify_ledger(workers=3)
    return str(single.problem), str(parallel.problem)


def test_it_accepts_an_intact_ledger_in_parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    ranges: list[int] = []
    original = ledger_verify._row_problems_in_parallel

    def spy(top: int, workers: int, chunk_size: int) -> dict[int, ledger_verify.LedgerProblem]:
        ranges.append(workers)
        return original(top, workers, chunk_size)

    monkeypatch.setattr(ledger_verify, "_row_problems_in_parallel", spy)

    report = ledger_verify.verify_ledger(workers=3)

    assert report.problem is None
    assert (report.entries, report.last_seq) == (40, 40)
    assert ranges == [3]


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (
            "UPDATE governance_ledgerentry SET reason = 'edited' WHERE seq IN (17, 33)",
            "entry 17: columns differ from the hashed record (reason)",
        ),
        (
            "UPDATE governance_ledgerentry SET entry_hash = repeat('a', 64) WHERE seq = 14",
            "entry 14: hash mismatch (the stored record does not hash to entry_hash)",
        ),
        (
            "DELETE FROM governance_ledgerentry WHERE seq = 27",
            "entry 27: missing (sequence jumps from 26 to 28)",
        ),
        (
            "UPDATE governance_ledgerentry SET seq = -seq WHERE seq IN (13, 14);"
            "UPDATE governance_ledgerentry SET seq = 27 + seq WHERE seq IN (-13, -14)",
            "entry 13: missing or moved (the entry hashed as 14 sits at 13)",
        ),
    ],
)
def test_it_names_the_same_entry_as_one_process(statement: str, expected: str) -> None:
    _tamper(statement)

    assert _verdicts() == (expected, expected)


def test_it_names_an_entry_rewritten_with_a_recomputed_hash() -> None:
    entry = LedgerEntry.objects.get(seq=14)
    entry.reason = "rewritten"
    entry.canonical = ledger.canonical_bytes(ledger.entry_payload(entry))
    entry.entry_hash = ledger.hash_text(entry.canonical)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
        entry.save(update_fields=["reason", "canonical", "entry_hash"])

    expected = "entry 14: rewritten (its hash is not the one entry 15 links to)"
    assert _verdicts() == (expected, expected)
