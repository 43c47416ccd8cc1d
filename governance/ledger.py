"""Append entries to the hash-chained audit ledger.

Every governed change calls :func:`append` inside its own transaction, so the change
and its record commit or fail together. Appends lock the single ``LedgerHead`` row,
which serialises writers and keeps the chain from forking.

Entries are never changed: a mistake is answered by :func:`record_correction`, a new
entry pointing at the old one. On PostgreSQL, triggers refuse UPDATE, DELETE and
TRUNCATE of the table (migration 0006); SQLite has no such protection, so there
only ``governance.ledger_verify`` and the signed checkpoints catch an edit.
"""

import hashlib
import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import transaction
from django.utils import timezone

from governance.middleware import current_request_context
from governance.models import LedgerEntry, LedgerHead

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
_SECRET_WORDS = ("password", "secret", "token", "api_key", "apikey", "credential")
# API token secrets as governance/api/tokens.py mints them ("mlg_" and 43 URL-safe
# characters). Free text (a rationale, an MLflow description) can hold one pasted by
# mistake; refusing the entry would block the change or the sync behind it, so the
# secret is cut out instead and the rest of the text kept.
_TOKEN_PREFIX = "mlg_"  # noqa: S105 - the marker of a secret, not one
_TOKEN_SHAPE = re.compile(r"mlg_[A-Za-z0-9_-]{32,}")
TOKEN_REDACTED = "mlg_[redacted]"  # noqa: S105 - what replaces a secret

JsonValue = Any


@dataclass(frozen=True)
class EntryDraft:
    """What a service wants recorded; the ledger adds sequence, time, place and hashes."""

    action: str
    object_type: str
    precision: str
    object_id: str = ""
    actor: AbstractBaseUser | AnonymousUser | None = None
    actor_role: str = ""
    source_name: str = ""
    model_name: str = ""
    version: int | None = None
    target: str = ""
    before: JsonValue = None
    after: JsonValue = None
    reason: str = ""
    details: Mapping[str, JsonValue] = field(default_factory=dict)
    window_start: datetime | None = None
    window_end: datetime | None = None
    corrects: LedgerEntry | None = None
    # Set by callers outside an HTTP request (tasks, commands) that still know one.
    request_id: str = ""
    client_address: str = ""


def json_safe(value: JsonValue) -> JsonValue:
    """Return ``value`` with non-finite floats spelled as strings, as JSON requires."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def canonical_bytes(payload: Mapping[str, JsonValue]) -> str:
    """Serialise a payload the one way the chain hashes it."""
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def hash_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hash_text(text: str) -> str:
    return hash_bytes(text.encode("utf-8"))


def format_time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


# The canonical payload's keys, in column order; the verifier reads exactly these.
PAYLOAD_FIELDS = (
    "seq",
    "recorded_at",
    "actor_id",
    "actor_username",
    "actor_name",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "source_name",
    "model_name",
    "version",
    "target",
    "before",
    "after",
    "reason",
    "details",
    "request_id",
    "client_address",
    "precision",
    "window_start",
    "window_end",
    "corrects_id",
    "prev_hash",
)
_TIME_FIELDS = ("recorded_at", "window_start", "window_end")


def payload_from_values(values: Sequence[JsonValue]) -> dict[str, JsonValue]:
    """Build the canonical payload from column values in ``PAYLOAD_FIELDS`` order."""
    payload = dict(zip(PAYLOAD_FIELDS, values, strict=True))
    for name in _TIME_FIELDS:
        value = payload[name]
        # The verifier reads times from PostgreSQL already formatted this way.
        if not isinstance(value, str):
            payload[name] = format_time(value)
    return payload


def entry_payload(entry: LedgerEntry) -> dict[str, JsonValue]:
    """Build the canonical payload from an entry's columns (used to verify them)."""
    return payload_from_values([getattr(entry, name) for name in PAYLOAD_FIELDS])


def holds_token(text: str) -> bool:
    """Say whether ``text`` holds something shaped like one of our API token secrets."""
    return _TOKEN_PREFIX in text and _TOKEN_SHAPE.search(text) is not None


def _redact_tokens(value: JsonValue) -> JsonValue:
    if isinstance(value, str):
        return _TOKEN_SHAPE.sub(TOKEN_REDACTED, value) if _TOKEN_PREFIX in value else value
    if isinstance(value, Mapping):
        return {_redact_tokens(key): _redact_tokens(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_redact_tokens(inner) for inner in value]
    return value


def _reject_secrets(value: JsonValue, path: str) -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            lowered = str(key).lower()
            if any(word in lowered for word in _SECRET_WORDS):
                raise ValueError(f"ledger entries must not carry secrets ({path}.{key})")
            _reject_secrets(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _reject_secrets(inner, f"{path}[{index}]")


def _build(draft: EntryDraft, seq: int, prev_hash: str, now: datetime) -> LedgerEntry:
    for name in ("before", "after", "details"):
        _reject_secrets(getattr(draft, name), name)
    context = current_request_context()
    actor = draft.actor if isinstance(draft.actor, User) else None
    entry = LedgerEntry(
        seq=seq,
        recorded_at=now,
        actor=actor,
        actor_username=actor.get_username() if actor else "",
        actor_name=actor.get_full_name() if actor else "",
        actor_role=draft.actor_role,
        action=draft.action,
        object_type=draft.object_type,
        object_id=draft.object_id,
        source_name=draft.source_name,
        model_name=draft.model_name,
        version=draft.version,
        target=draft.target,
        before=json_safe(draft.before),
        after=json_safe(draft.after),
        reason=draft.reason,
        details=json_safe(dict(draft.details)),
        request_id=draft.request_id or (context.request_id if context else ""),
        client_address=draft.client_address or (context.client_address if context else ""),
        precision=draft.precision,
        window_start=draft.window_start,
        window_end=draft.window_end,
        corrects=draft.corrects,
        prev_hash=prev_hash,
    )
    entry.canonical = canonical_bytes(entry_payload(entry))
    # One search of the finished text spares walking every value of every entry.
    if _TOKEN_PREFIX in entry.canonical:
        for name in ("before", "after", "reason", "details"):
            setattr(entry, name, _redact_tokens(getattr(entry, name)))
        entry.canonical = canonical_bytes(entry_payload(entry))
    entry.entry_hash = hash_text(entry.canonical)
    return entry


def append_many(drafts: Sequence[EntryDraft]) -> list[LedgerEntry]:
    """Append drafts in order; must run inside the caller's transaction."""
    if not drafts:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger appends must run inside the transaction of the change")

    head, _ = LedgerHead.objects.select_for_update().get_or_create(
        id=1, defaults={"seq": 0, "entry_hash": GENESIS_HASH}
    )
    now = timezone.now()
    entries: list[LedgerEntry] = []
    seq, prev_hash = head.seq, head.entry_hash
    for draft in drafts:
        seq += 1
        entry = _build(draft, seq, prev_hash, now)
        entries.append(entry)
        prev_hash = entry.entry_hash

    LedgerEntry.objects.bulk_create(entries)
    head.seq, head.entry_hash = seq, prev_hash
    head.save(update_fields=["seq", "entry_hash"])
    return entries


def append(draft: EntryDraft) -> LedgerEntry:
    """Append one entry; must run inside the caller's transaction."""
    return append_many([draft])[0]


def record_correction(
    original: LedgerEntry,
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    actor_role: str,
    reason: str,
    after: JsonValue,
    details: Mapping[str, JsonValue] | None = None,
) -> LedgerEntry:
    """Record that ``original`` was wrong, as a new entry pointing at it.

    ``details`` adds what the caller knows of where the correction came from, e.g. the
    operating-system user of a management command.
    """
    if not reason.strip():
        raise ValueError("a correction needs a reason")

    with transaction.atomic():
        entry = append(
            EntryDraft(
                action="ledger.correction",
                object_type=original.object_type,
                object_id=original.object_id,
                precision=LedgerEntry.Precision.RECORDED,
                actor=actor,
                actor_role=actor_role,
                source_name=original.source_name,
                model_name=original.model_name,
                version=original.version,
                target=original.target,
                before=original.after,
                after=after,
                reason=reason,
                details={
                    **(details or {}),
                    "corrected_seq": original.seq,
                    "corrected_action": original.action,
                },
                corrects=original,
            )
        )
    logger.info("ledger entry %s corrects entry %s", entry.seq, original.seq)
    return entry
