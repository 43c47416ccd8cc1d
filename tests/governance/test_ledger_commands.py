"""``verify_ledger`` and ``write_ledger_checkpoint``: output and exit status."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from pytest_django import Settings

from governance import ledger
from governance.models import LedgerEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def directory(settings: Settings, tmp_path: Path) -> Path:
    settings.LEDGER_SIGNING_KEY = "11" * 32
    settings.LEDGER_VERIFY_KEY = ""
    settings.LEDGER_CHECKPOINT_DIR = tmp_path
    return tmp_path


def _append(count: int) -> None:
    with transaction.atomic():
        ledger.append_many(
            [
                ledger.EntryDraft(action="test.event", object_type="test", precision="recorded")
                for _ in range(count)
            ]
        )


def _run(name: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(name, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_reports_an_intact_ledger_with_its_checkpoints() -> None:
    _append(3)
    written, _ = _run("write_ledger_checkpoint")

    out, err = _run("verify_ledger")

    head = LedgerEntry.objects.get(seq=3).entry_hash[:16]
    assert written.startswith(f"checkpoint for entry 3 ({head}) at ")
    assert out.startswith(f"ledger intact: 3 entries, head 3 ({head}), 1 signed checkpoints, ")
    assert err == ""


def test_it_warns_when_no_checkpoint_protects_the_tail() -> None:
    _append(2)

    _, err = _run("verify_ledger")

    assert "no signed checkpoints were found" in err


def test_it_says_when_there_is_nothing_to_sign() -> None:
    out, _ = _run("write_ledger_checkpoint")

    assert out == "no checkpoint written: the ledger is empty\n"


def test_it_fails_naming_the_first_bad_entry() -> None:
    _append(4)

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        LedgerEntry.objects.filter(seq__in=[2, 3]).update(reason="edited")
        with pytest.raises(CommandError) as failure:
            _run("verify_ledger")
        transaction.set_rollback(True)

    assert str(failure.value) == (
        "ledger verification failed: entry 2: columns differ from the hashed record (reason)"
    )
    assert failure.value.returncode == 1


def test_it_fails_distinctly_without_a_usable_key(settings: Settings) -> None:
    settings.LEDGER_SIGNING_KEY = "not a key"

    with pytest.raises(CommandError) as failure:
        _run("verify_ledger")

    assert str(failure.value).startswith("ledger verification impossible: LEDGER_SIGNING_KEY")
    assert failure.value.returncode == 2
