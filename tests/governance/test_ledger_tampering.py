"""Tampering with the stored ledger is caught by ``verify_ledger``, naming the entry.

Each example appends a real chain, signs checkpoint files, then edits the table the
way someone with database access would and runs the verifier service. On PostgreSQL
the edits need ``session_replication_role = replica`` (superuser only) to get past the
append-only triggers; the example's transaction is rolled back afterwards.
"""

import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_django import Settings

from governance import ledger
from governance.checkpoints import write_checkpoint
from governance.ledger_verify import VerificationReport, verify_ledger
from governance.models import LedgerEntry, LedgerHead

pytestmark = pytest.mark.django_db

SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"


@pytest.fixture(autouse=True)
def _signing_key(settings: Settings) -> None:
    settings.LEDGER_SIGNING_KEY = SEED
    settings.LEDGER_VERIFY_KEY = ""


def _drafts(count: int, offset: int) -> list[ledger.EntryDraft]:
    moment = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
    return [
        ledger.EntryDraft(
            action="mlflow.alias_moved",
            object_type="model_version",
            object_id=f"fraud/{number}",
            precision="observed",
            source_name="default",
            model_name="fraud-détection <b>",
            version=number,
            target="champion",
            before={"version": number - 1},
            after={"version": number},
            details={"sync_run": number, "note": "ünïcode ✓"},
            window_start=moment + timedelta(minutes=number),
            window_end=moment + timedelta(minutes=number, seconds=30),
        )
        for number in range(offset + 1, offset + count + 1)
    ]


def _allow_tampering() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")


def _reseal(entry: LedgerEntry) -> None:
    entry.canonical = ledger.canonical_bytes(ledger.entry_payload(entry))
    entry.entry_hash = ledger.hash_text(entry.canonical)
    entry.save(update_fields=["prev_hash", "reason", "after", "canonical", "entry_hash"])


def _set_head_to_last() -> None:
    last = LedgerEntry.objects.order_by("-seq").first()
    seq, entry_hash = (last.seq, last.entry_hash) if last else (0, ledger.GENESIS_HASH)
    LedgerHead.objects.filter(id=1).update(seq=seq, entry_hash=entry_hash)


Tamper = Callable[[int, list[int], st.DataObject], int]


def edit_column(length: int, signed: list[int], data: st.DataObject) -> int:
    seq = data.draw(st.integers(1, length), label="seq")
    field, value = data.draw(
        st.sampled_from(
            [
                ("reason", "a better reason"),
                ("actor_name", "Somebody Else"),
                ("after", {"version": 99}),
                ("details", {}),
                ("version", 42),
                ("recorded_at", datetime(2020, 1, 1, tzinfo=UTC)),
                ("prev_hash", "f" * 64),
                ("window_end", None),
            ]
        ),
        label="field",
    )
    LedgerEntry.objects.filter(seq=seq).update(**{field: value})
    return seq


def edit_record_keeping_hash(length: int, signed: list[int], data: st.DataObject) -> int:
    seq = data.draw(st.integers(1, length), label="seq")
    entry = LedgerEntry.objects.get(seq=seq)
    entry.reason = "rewritten reason"
    entry.canonical = ledger.canonical_bytes(ledger.entry_payload(entry))
    entry.save(update_fields=["reason", "canonical"])
    return seq


def edit_and_rehash(length: int, signed: list[int], data: st.DataObject) -> int:
    seq = data.draw(st.integers(1, length - 1), label="seq")
    entry = LedgerEntry.objects.get(seq=seq)
    entry.after = {"version": 1000}
    _reseal(entry)
    return seq


def delete_entry(length: int, signed: list[int], data: st.DataObject) -> int:
    seq = data.draw(st.integers(1, length - 1), label="seq")
    LedgerEntry.objects.filter(seq=seq).delete()
    return seq


def swap_entries(length: int, signed: list[int], data: st.DataObject) -> int:
    first = data.draw(st.integers(1, length - 1), label="first")
    second = data.draw(st.integers(first + 1, length), label="second")
    LedgerEntry.objects.filter(seq=first).update(seq=-1)
    LedgerEntry.objects.filter(seq=second).update(seq=first)
    LedgerEntry.objects.filter(seq=-1).update(seq=second)
    return first


def insert_forged(length: int, signed: list[int], data: st.DataObject) -> int:
    seq = data.draw(st.integers(1, length), label="seq")
    for current in range(length, seq - 1, -1):
        LedgerEntry.objects.filter(seq=current).update(seq=current + 1)
    previous = LedgerEntry.objects.filter(seq=seq - 1).values_list("entry_hash", flat=True)
    forged = LedgerEntry(
        seq=seq,
        recorded_at=datetime(2026, 5, 4, 12, 0, tzinfo=UTC),
        action="decision.approved",
        object_type="transition_request",
        object_id="forged",
        precision="recorded",
        reason="approved, honestly",
        prev_hash=previous.first() or ledger.GENESIS_HASH,
    )
    forged.canonical = ledger.canonical_bytes(ledger.entry_payload(forged))
    forged.entry_hash = ledger.hash_text(forged.canonical)
    forged.save()
    _set_head_to_last()
    return seq


def truncate_tail(length: int, signed: list[int], data: st.DataObject) -> int:
    seq = data.draw(st.integers(1, max(signed)), label="first removed")
    LedgerEntry.objects.filter(seq__gte=seq).delete()
    _set_head_to_last()
    return seq


def rewrite_tail(length: int, signed: list[int], data: st.DataObject) -> int:
    seq = data.draw(st.integers(1, max(signed)), label="first rewritten")
    previous = LedgerEntry.objects.filter(seq=seq - 1).values_list("entry_hash", flat=True)
    prev_hash = previous.first() or ledger.GENESIS_HASH
    for entry in LedgerEntry.objects.filter(seq__gte=seq).order_by("seq"):
        if entry.seq == seq:
            entry.reason = "history, improved"
        entry.prev_hash = prev_hash
        _reseal(entry)
        prev_hash = entry.entry_hash
    _set_head_to_last()
    return min(number for number in signed if number >= seq)


TAMPERINGS: list[Tamper] = [
    edit_column,
    edit_record_keeping_hash,
    edit_and_rehash,
    delete_entry,
    swap_entries,
    insert_forged,
    truncate_tail,
    rewrite_tail,
]


def _tampered_report(
    tamper: Tamper | None, data: st.DataObject, directory: Path
) -> tuple[int | None, VerificationReport]:
    first_part = data.draw(st.integers(2, 8), label="entries before the first checkpoint")
    second_part = data.draw(st.integers(1, 6), label="entries after it")
    with transaction.atomic():
        ledger.append_many(_drafts(first_part, 0))
        first = write_checkpoint(directory)
        ledger.append_many(_drafts(second_part, first_part))
        second = write_checkpoint(directory) if data.draw(st.booleans(), label="two") else None
        signed = [checkpoint.seq for checkpoint in (first, second) if checkpoint]

        expected = None
        if tamper is not None:
            _allow_tampering()
            expected = tamper(first_part + second_part, signed, data)
        report = verify_ledger(checkpoint_dir=directory)
        transaction.set_rollback(True)
    return expected, report


@pytest.mark.parametrize("tamper", TAMPERINGS, ids=lambda tamper: tamper.__name__)
@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_it_names_the_tampered_entry(tamper: Tamper, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as directory:
        expected, report = _tampered_report(tamper, data, Path(directory))

    assert report.problem is not None, "the tampering went unnoticed"
    assert report.problem.seq == expected, str(report.problem)


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_it_accepts_an_untouched_ledger(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as directory:
        _, report = _tampered_report(None, data, Path(directory))

    assert report.problem is None
    assert report.checkpoints >= 1
