"""Appends from several connections at once never fork the chain (PostgreSQL)."""

import threading
from pathlib import Path

import pytest
from django.db import connection, transaction
from pytest_django import Settings

from governance import ledger
from governance.ledger_verify import verify_ledger
from governance.models import LedgerEntry

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_required")]

WRITERS = 6
APPENDS = 8


def _writer(number: int, start: threading.Barrier, failures: list[BaseException]) -> None:
    try:
        start.wait()
        for index in range(APPENDS):
            with transaction.atomic():
                ledger.append(
                    ledger.EntryDraft(
                        action="test.concurrent",
                        object_type="test",
                        object_id=f"{number}-{index}",
                        precision="recorded",
                    )
                )
    except BaseException as exc:  # re-raised by the test thread
        failures.append(exc)
    finally:
        connection.close()


def test_it_keeps_one_chain_under_concurrent_appends(tmp_path: Path, settings: Settings) -> None:
    settings.LEDGER_SIGNING_KEY = "22" * 32
    start = threading.Barrier(WRITERS)
    failures: list[BaseException] = []
    threads = [
        threading.Thread(target=_writer, args=(number, start, failures))
        for number in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert list(LedgerEntry.objects.values_list("seq", flat=True)) == list(
        range(1, WRITERS * APPENDS + 1)
    )
    assert LedgerEntry.objects.values("object_id").distinct().count() == WRITERS * APPENDS
    report = verify_ledger(checkpoint_dir=tmp_path)
    assert report.intact, report.problem
    assert report.entries == WRITERS * APPENDS
