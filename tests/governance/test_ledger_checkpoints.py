"""Signed checkpoint files: keys, writing, and refusing forged or foreign files."""

import base64
import json
import logging
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone
from pytest_django import Settings

from governance import checkpoints, ledger
from governance.ledger_verify import LedgerIntegrityError, verify_ledger
from governance.models import LedgerEntry

pytestmark = pytest.mark.django_db

SEED = bytes(range(32))


@pytest.fixture
def directory(settings: Settings, tmp_path: Path) -> Path:
    settings.LEDGER_SIGNING_KEY = SEED.hex()
    settings.LEDGER_VERIFY_KEY = ""
    settings.LEDGER_CHECKPOINT_DIR = tmp_path / "checkpoints"
    return tmp_path / "checkpoints"


def _append(count: int) -> None:
    with transaction.atomic():
        ledger.append_many(
            [
                ledger.EntryDraft(action="test.event", object_type="test", precision="recorded")
                for _ in range(count)
            ]
        )


def _public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def test_it_reads_a_signing_key_as_pem_hex_or_base64() -> None:
    pem = Ed25519PrivateKey.from_private_bytes(SEED).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    spellings = [
        pem.decode(),
        SEED.hex(),
        base64.b64encode(SEED).decode(),
        base64.urlsafe_b64encode(SEED).decode().rstrip("="),
    ]

    keys = [checkpoints.parse_signing_key(text) for text in spellings]

    assert {_public_bytes(key) for key in keys} == {
        _public_bytes(Ed25519PrivateKey.from_private_bytes(SEED))
    }


def test_it_refuses_malformed_or_foreign_keys() -> None:
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )

    with pytest.raises(ImproperlyConfigured, match="PEM block or 32 bytes as 64 hex digits"):
        checkpoints.parse_signing_key("too-short")
    with pytest.raises(ImproperlyConfigured, match="must be an Ed25519 key"):
        checkpoints.parse_signing_key(ec_pem.decode())


def test_it_generates_and_keeps_a_development_key(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings.LEDGER_SIGNING_KEY = ""
    settings.PRODUCTION = False
    settings.BASE_DIR = tmp_path

    with caplog.at_level(logging.WARNING, logger="governance.checkpoints"):
        first = checkpoints.signing_key()
    second = checkpoints.signing_key()

    key_file = tmp_path / "var" / "ledger_signing_key.pem"
    assert _public_bytes(first) == _public_bytes(second)
    assert key_file.stat().st_mode & 0o077 == 0
    assert "generated a development signing key" in caplog.text
    assert "PRIVATE KEY" not in caplog.text
    assert not list(key_file.parent.glob(".ledger-key-*"))


def test_it_requires_a_key_in_production(settings: Settings) -> None:
    settings.LEDGER_SIGNING_KEY = ""
    settings.PRODUCTION = True

    with pytest.raises(ImproperlyConfigured, match="LEDGER_SIGNING_KEY must be set"):
        checkpoints.signing_key()


def test_it_skips_an_empty_ledger(directory: Path) -> None:
    assert checkpoints.write_checkpoint() is None
    assert not directory.exists() or not list(directory.iterdir())


def test_it_writes_one_signed_file_per_new_head(directory: Path) -> None:
    _append(3)

    first = checkpoints.write_checkpoint()
    again = checkpoints.write_checkpoint()
    _append(2)
    second = checkpoints.write_checkpoint()

    assert first is not None and again is not None and second is not None
    assert (first.seq, again.seq, second.seq) == (3, 3, 5)
    assert first.entry_hash == LedgerEntry.objects.get(seq=3).entry_hash
    files = sorted(directory.iterdir())
    assert [path.name[:23] for path in files] == [
        "checkpoint-000000000003",
        "checkpoint-000000000005",
    ]
    body = json.loads(files[0].read_text())
    assert set(body) == {"format", "seq", "entry_hash", "written_at", "key_id", "signature"}
    public = Ed25519PrivateKey.from_private_bytes(SEED).public_key()
    assert checkpoints.load_checkpoints(directory, public)[0].signature == body["signature"]


def test_it_refuses_to_sign_a_tampered_ledger(directory: Path) -> None:
    _append(3)
    checkpoints.write_checkpoint()
    _append(2)

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        LedgerEntry.objects.filter(seq=4).update(reason="slipped in")
        with pytest.raises(LedgerIntegrityError, match="entry 4: columns differ"):
            checkpoints.write_checkpoint()
        transaction.set_rollback(True)

    assert len(list(directory.iterdir())) == 1


def test_it_rejects_an_edited_checkpoint_file(directory: Path) -> None:
    _append(4)
    checkpoint = checkpoints.write_checkpoint()
    assert checkpoint is not None and checkpoint.path is not None
    body = json.loads(checkpoint.path.read_text())
    body["seq"] = 2
    checkpoint.path.write_text(json.dumps(body))

    report = verify_ledger()

    assert report.problem is not None
    assert str(report.problem) == f"checkpoint {checkpoint.path.name}: signature does not verify"


def test_it_rejects_a_checkpoint_signed_by_another_key(directory: Path) -> None:
    _append(2)
    stranger = Ed25519PrivateKey.generate()
    forged = checkpoints.sign_checkpoint(
        2, LedgerEntry.objects.get(seq=2).entry_hash, timezone.now(), stranger
    )
    path = checkpoints.save_checkpoint(forged, directory)

    report = verify_ledger()

    assert report.problem is not None
    assert str(report.problem).startswith(f"checkpoint {path.name}: signed by key ")


def test_it_verifies_with_the_public_key_alone(directory: Path, settings: Settings) -> None:
    _append(2)
    checkpoints.write_checkpoint()
    settings.LEDGER_VERIFY_KEY = base64.b64encode(
        _public_bytes(Ed25519PrivateKey.from_private_bytes(SEED))
    ).decode()
    settings.LEDGER_SIGNING_KEY = "not-a-key-the-verifier-needs"

    report = verify_ledger()

    assert report.intact
    assert report.checkpoints == 1


def test_its_periodic_task_writes_a_checkpoint_once_per_head(directory: Path) -> None:
    from governance.tasks import write_ledger_checkpoint

    _append(2)

    write_ledger_checkpoint()
    write_ledger_checkpoint()

    assert [path.name[:23] for path in directory.iterdir()] == ["checkpoint-000000000002"]
