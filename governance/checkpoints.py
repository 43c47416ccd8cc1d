"""Sign the ledger's head into checkpoint files kept outside the database.

A checkpoint is one JSON file naming a sequence number, the hash of the entry at that
number and the time it was written, signed with an Ed25519 key. Whoever can rewrite
the database cannot forge these files without the private key, so a verifier holding
only the public key notices a rewritten or truncated tail.

``LEDGER_SIGNING_KEY`` holds the private key in one of three spellings: a PEM block
("-----BEGIN PRIVATE KEY-----", PKCS#8), or the 32-byte seed as 64 hexadecimal digits
or as base64. ``LEDGER_VERIFY_KEY`` may hold the public key alone (PEM, or 32 raw
bytes as hex or base64) for a verifier that must not hold the private key; without it
the public key is derived from the signing key. Outside production an unset signing
key is generated once and kept in ``var/ledger_signing_key.pem``.

Every file in ``LEDGER_CHECKPOINT_DIR`` must verify with the one verify key; to rotate
the key, move the old files to an archive (verifiable with the old public key) and
let the next checkpoint start the new series.
"""

import base64
import binascii
import json
import logging
import os
import tempfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from governance.ledger import canonical_bytes, format_time, hash_text

logger = logging.getLogger(__name__)

CHECKPOINT_FORMAT = 1
_FILE_GLOB = "checkpoint-*.json"


class CheckpointError(Exception):
    """A checkpoint file is unreadable, malformed or not signed by the verify key."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    entry_hash: str
    written_at: datetime
    key_id: str
    signature: str
    path: Path | None = None

    @property
    def label(self) -> str:
        """Name the checkpoint in messages by the time it was written."""
        return format_time(self.written_at) or ""

    def signed_text(self) -> str:
        return canonical_bytes(
            {
                "format": CHECKPOINT_FORMAT,
                "seq": self.seq,
                "entry_hash": self.entry_hash,
                "written_at": self.label,
                "key_id": self.key_id,
            }
        )


def _decode_key_bytes(text: str, what: str) -> bytes:
    stripped = text.strip()
    try:
        if len(stripped) == 64:
            return bytes.fromhex(stripped)
    except ValueError:
        pass
    try:
        raw = base64.b64decode(stripped + "=" * (-len(stripped) % 4), altchars=b"-_")
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ImproperlyConfigured(
            f"{what} must be a PEM block or 32 bytes as 64 hex digits or base64"
        )
    return raw


def parse_signing_key(text: str) -> Ed25519PrivateKey:
    """Read an Ed25519 private key from PEM, or from a hex or base64 32-byte seed."""
    if "-----BEGIN" in text:
        try:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured("LEDGER_SIGNING_KEY is not a readable PEM key") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ImproperlyConfigured("LEDGER_SIGNING_KEY must be an Ed25519 key")
        return key
    return Ed25519PrivateKey.from_private_bytes(_decode_key_bytes(text, "LEDGER_SIGNING_KEY"))


def parse_verify_key(text: str) -> Ed25519PublicKey:
    """Read an Ed25519 public key from PEM, or from 32 raw bytes as hex or base64."""
    if "-----BEGIN" in text:
        try:
            key = serialization.load_pem_public_key(text.encode())
        except ValueError as exc:
            raise ImproperlyConfigured("LEDGER_VERIFY_KEY is not a readable PEM key") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise ImproperlyConfigured("LEDGER_VERIFY_KEY must be an Ed25519 key")
        return key
    return Ed25519PublicKey.from_public_bytes(_decode_key_bytes(text, "LEDGER_VERIFY_KEY"))


def _development_key_path() -> Path:
    return Path(settings.BASE_DIR) / "var" / "ledger_signing_key.pem"


def _development_key() -> Ed25519PrivateKey:
    path = _development_key_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # Written aside and linked into place, so two processes starting together
        # cannot each keep a different key.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".ledger-key-")
        try:
            os.write(fd, pem)
            os.close(fd)
            os.link(temporary, path)
            logger.warning(
                "LEDGER_SIGNING_KEY is unset: generated a development signing key at %s; "
                "production must set the variable",
                path,
            )
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    return parse_signing_key(path.read_text())


def signing_key() -> Ed25519PrivateKey:
    """Return the checkpoint signing key from settings (generated outside production)."""
    configured = str(settings.LEDGER_SIGNING_KEY)
    if configured:
        return parse_signing_key(configured)
    if settings.PRODUCTION:
        raise ImproperlyConfigured("LEDGER_SIGNING_KEY must be set when PRODUCTION is true")
    return _development_key()


def verify_key() -> Ed25519PublicKey:
    """Return the public key checkpoints are verified with."""
    configured = str(settings.LEDGER_VERIFY_KEY)
    if configured:
        return parse_verify_key(configured)
    return signing_key().public_key()


def key_id(public_key: Ed25519PublicKey) -> str:
    """Fingerprint a public key, so a file signed by another key is named as such."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hash_text(raw.hex())[:16]


def sign_checkpoint(
    seq: int, entry_hash: str, written_at: datetime, private_key: Ed25519PrivateKey
) -> Checkpoint:
    """Build a signed checkpoint for the entry ``seq`` with hash ``entry_hash``."""
    unsigned = Checkpoint(
        seq=seq,
        entry_hash=entry_hash,
        written_at=written_at.astimezone(UTC),
        key_id=key_id(private_key.public_key()),
        signature="",
    )
    signature = private_key.sign(unsigned.signed_text().encode("utf-8"))
    return Checkpoint(
        seq=unsigned.seq,
        entry_hash=unsigned.entry_hash,
        written_at=unsigned.written_at,
        key_id=unsigned.key_id,
        signature=base64.b64encode(signature).decode("ascii"),
    )


def save_checkpoint(checkpoint: Checkpoint, directory: Path) -> Path:
    """Write one checkpoint file atomically (temporary file, then rename)."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = checkpoint.written_at.strftime("%Y%m%dT%H%M%S%fZ")
    path = directory / f"checkpoint-{checkpoint.seq:012d}-{stamp}.json"
    body = {
        "format": CHECKPOINT_FORMAT,
        "seq": checkpoint.seq,
        "entry_hash": checkpoint.entry_hash,
        "written_at": checkpoint.label,
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature,
    }
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".checkpoint-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(body, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _read_checkpoint(path: Path, public_key: Ed25519PublicKey) -> Checkpoint:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        if body.get("format") != CHECKPOINT_FORMAT:
            raise CheckpointError(f"checkpoint {path.name}: unknown format {body.get('format')!r}")
        checkpoint = Checkpoint(
            seq=int(body["seq"]),
            entry_hash=str(body["entry_hash"]),
            written_at=datetime.fromisoformat(str(body["written_at"])),
            key_id=str(body["key_id"]),
            signature=str(body["signature"]),
            path=path,
        )
        signature = base64.b64decode(checkpoint.signature, validate=True)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"checkpoint {path.name}: unreadable ({exc})") from exc

    if checkpoint.key_id != key_id(public_key):
        raise CheckpointError(
            f"checkpoint {path.name}: signed by key {checkpoint.key_id}, "
            f"not by the verify key {key_id(public_key)}"
        )
    try:
        public_key.verify(signature, checkpoint.signed_text().encode("utf-8"))
    except InvalidSignature as exc:
        raise CheckpointError(f"checkpoint {path.name}: signature does not verify") from exc
    return checkpoint


def load_checkpoints(directory: Path, public_key: Ed25519PublicKey) -> list[Checkpoint]:
    """Read and verify every checkpoint file, oldest sequence first."""
    if not directory.is_dir():
        return []
    checkpoints = [_read_checkpoint(path, public_key) for path in directory.glob(_FILE_GLOB)]
    return sorted(checkpoints, key=lambda checkpoint: (checkpoint.seq, checkpoint.written_at))


def checkpoint_directory() -> Path:
    return Path(settings.LEDGER_CHECKPOINT_DIR)


def write_checkpoint(directory: Path | None = None) -> Checkpoint | None:
    """Verify the entries since the last checkpoint, then sign the newest one to a file.

    Returns the latest checkpoint unchanged when no entry was appended since, and
    ``None`` while the ledger is empty. A ledger that fails the check is not signed.
    """
    # Imported here because the verifier reads checkpoints with this module.
    from governance import ledger_verify

    target = directory or checkpoint_directory()
    private_key = signing_key()
    existing = load_checkpoints(target, private_key.public_key())
    latest = existing[-1] if existing else None
    report = ledger_verify.verify_since(latest)
    if report.problem is not None:
        logger.error("ledger checkpoint refused: %s", report.problem)
        raise ledger_verify.LedgerIntegrityError(report.problem)
    if report.entries == 0:
        logger.info("ledger checkpoint skipped: the ledger is empty")
        return None
    if latest is not None and report.last_seq == latest.seq:
        logger.info("ledger checkpoint skipped: entry %s is already signed", latest.seq)
        return latest

    checkpoint = sign_checkpoint(report.last_seq, report.last_hash, timezone.now(), private_key)
    path = save_checkpoint(checkpoint, target)
    logger.info("ledger checkpoint written: entry %s to %s", checkpoint.seq, path)
    return replace(checkpoint, path=path)
