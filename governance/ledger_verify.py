"""Verify the ledger: sequence, links, hashes, columns and signed checkpoints.

Entries are streamed in sequence order as plain tuples, so memory stays flat and no
model instance is built per row. The first problem found ends the check and names
the lowest entry that is wrong, with the reason.

Everything is computed here from the stored text, never by the database: hashes,
and the comparison of the columns with the canonical record they were built from.
The database only reads values out (on PostgreSQL, times as text in canonical form).
"""

import json
import logging
import time
from collections.abc import Generator, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import connection, transaction

from governance import checkpoints as checkpoint_files
from governance.checkpoints import Checkpoint
from governance.ledger import (
    GENESIS_HASH,
    PAYLOAD_FIELDS,
    canonical_bytes,
    format_time,
    hash_bytes,
    payload_from_values,
)
from governance.models import LedgerEntry, LedgerHead

logger = logging.getLogger(__name__)

# Rows are PAYLOAD_FIELDS values followed by the stored canonical text and hash.
ROW_FIELDS = (*PAYLOAD_FIELDS, "canonical", "entry_hash")
_SEQ = PAYLOAD_FIELDS.index("seq")
_PREV = PAYLOAD_FIELDS.index("prev_hash")
_CANONICAL = len(PAYLOAD_FIELDS)
_HASH = _CANONICAL + 1
_PAYLOAD = slice(0, _CANONICAL)


@dataclass(frozen=True)
class LedgerProblem:
    """The first thing found wrong: an entry's sequence number and why."""

    seq: int | None
    reason: str

    def __str__(self) -> str:
        return self.reason if self.seq is None else f"entry {self.seq}: {self.reason}"


@dataclass(frozen=True)
class VerificationReport:
    entries: int
    last_seq: int
    last_hash: str
    checkpoints: int
    problem: LedgerProblem | None
    elapsed_seconds: float = 0.0

    @property
    def intact(self) -> bool:
        return self.problem is None


class LedgerIntegrityError(Exception):
    """The ledger failed verification."""

    def __init__(self, problem: LedgerProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class _Broken(Exception):
    def __init__(self, seq: int | None, reason: str) -> None:
        self.problem = LedgerProblem(seq, reason)


_TIMES = tuple(PAYLOAD_FIELDS.index(name) for name in ("recorded_at", "window_start", "window_end"))
_TIME_NAMES = tuple(PAYLOAD_FIELDS[index] for index in _TIMES)
_JSONS = tuple(PAYLOAD_FIELDS.index(name) for name in ("before", "after", "details"))
_decode = json.JSONDecoder().decode


def _rebuild(row: Sequence[Any], times: dict[datetime, str]) -> bytes | None:
    """Serialise the columns as ``canonical_bytes(payload_from_values(...))`` would.

    The fast path, in UTF-8: orjson instead of the standard encoder (seven times
    faster on an entry). orjson spells some floats differently (``1e-5`` where json
    writes ``1e-05``), so a mismatch here is only a hint: the exact path judges.
    ``None`` means a value orjson cannot encode.
    """
    # zip stops at the payload's last field; the canonical text and hash follow it.
    payload = dict(zip(PAYLOAD_FIELDS, row))  # noqa: B905
    for name in _TIME_NAMES:
        value = payload[name]
        # Rows read from PostgreSQL carry their times formatted already; others
        # carry datetimes, cached since one batch of appends shares its time.
        if value is not None and value.__class__ is not str:
            text = times.get(value)
            if text is None:
                if len(times) > 10_000:
                    times.clear()
                text = times[value] = format_time(value) or ""
            payload[name] = text
    try:
        return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None


def _same_value(column: Any, recorded: Any) -> bool:
    """Whether a column holds the value the hashed record holds.

    jsonb keeps numbers as decimals and prints them in its own way, so ``1e+16``
    comes back as ``10000000000000000`` and ``-0.0`` as ``0.0``: numbers compare by
    value, as floats where either side is one. Everything else compares by type
    and value, so ``true`` is never ``1`` and ``"1"`` never ``1``.
    """
    if isinstance(column, bool) or isinstance(recorded, bool):
        return column is recorded
    if isinstance(column, int | float) and isinstance(recorded, int | float):
        if isinstance(column, int) and isinstance(recorded, int):
            return column == recorded
        try:
            return float(column) == float(recorded)
        except OverflowError:
            return False
    if isinstance(column, dict) and isinstance(recorded, dict):
        return column.keys() == recorded.keys() and all(
            _same_value(column[key], recorded[key]) for key in column
        )
    if isinstance(column, list) and isinstance(recorded, list):
        return len(column) == len(recorded) and all(map(_same_value, column, recorded))
    return type(column) is type(recorded) and column == recorded


def _differing_fields(row: Sequence[Any], recorded: dict[str, Any]) -> list[str]:
    built = payload_from_values(row[_PAYLOAD])
    names = set(built) | set(recorded)
    return sorted(
        name
        for name in names
        if name not in built or name not in recorded or not _same_value(built[name], recorded[name])
    )


def _check_columns(
    row: Sequence[Any], seq: int, times: dict[datetime, str], encoded: bytes
) -> None:
    """Raise unless the columns hold the values of the stored canonical text.

    Re-encoding the columns settles almost every entry; only where the database
    spells a number differently are the values compared one by one.
    """
    if _rebuild(row, times) == encoded:
        return
    canonical = row[_CANONICAL]
    if canonical_bytes(payload_from_values(row[_PAYLOAD])) == canonical:
        return
    try:
        recorded = _decode(canonical)
    except ValueError:
        raise _Broken(seq, "the stored record is not valid JSON") from None
    if not isinstance(recorded, dict):
        raise _Broken(seq, "the stored record is not a JSON object")

    claimed = recorded.get("seq")
    if isinstance(claimed, int) and claimed != seq:
        # The hashed record says where the entry belongs; a different place means
        # entries were removed before it (it moved down) or added (it moved up).
        if claimed > seq:
            raise _Broken(seq, f"missing or moved (the entry hashed as {claimed} sits at {seq})")
        raise _Broken(
            claimed, f"replaced or inserted (the entry hashed as {claimed} sits at {seq})"
        )
    fields = _differing_fields(row, recorded)
    if fields:
        raise _Broken(seq, f"columns differ from the hashed record ({', '.join(fields)})")


def _check_row(row: Sequence[Any], times: dict[datetime, str]) -> None:
    """Run the checks that need only the row itself: its hash, then its columns."""
    encoded = row[_CANONICAL].encode()
    if hash_bytes(encoded) != row[_HASH]:
        raise _Broken(row[_SEQ], "hash mismatch (the stored record does not hash to entry_hash)")
    _check_columns(row, row[_SEQ], times, encoded)


def _claimed_prev(row: Sequence[Any]) -> Any:
    """Return the previous hash the entry's hashed record names (columns may lie)."""
    try:
        recorded = json.loads(row[_CANONICAL])
    except ValueError:
        return row[_PREV]
    return recorded.get("prev_hash") if isinstance(recorded, dict) else row[_PREV]


class _ChainCheck:
    """Walk rows in order, remembering only what the next row is checked against."""

    def __init__(
        self,
        checkpoints: Sequence[Checkpoint],
        start_seq: int,
        start_prev: str | None,
    ) -> None:
        self.by_seq: dict[int, list[Checkpoint]] = {}
        for checkpoint in checkpoints:
            self.by_seq.setdefault(checkpoint.seq, []).append(checkpoint)
        self.expected = start_seq
        self.start_seq = start_seq
        self.prev_hash = start_prev
        self.prev_confirmed = False
        # A link found broken at (seq, hash): the next row says which side is wrong.
        self.pending: tuple[int, str] | None = None
        self.count = 0
        self.times: dict[datetime, str] = {}
        self.last_seq = start_seq - 1
        self.last_hash = start_prev or ""

    def feed(self, row: Sequence[Any]) -> None:
        """Check one full row (``ROW_FIELDS``)."""
        seq = row[_SEQ]
        if self.pending is not None:
            self._resolve_link(seq, _claimed_prev(row))
        self._expect(seq)
        _check_row(row, self.times)
        self._advance(seq, row[_PREV], row[_HASH])

    def _expect(self, seq: int) -> None:
        if seq == self.expected:
            return
        if seq < self.expected:
            raise _Broken(seq, f"out of order (after entry {self.expected - 1})")
        if self.expected == 1:
            raise _Broken(1, f"missing (sequence starts at {seq})")
        raise _Broken(self.expected, f"missing (sequence jumps from {self.expected - 1} to {seq})")

    def _advance(self, seq: int, prev_hash: str, entry_hash: str) -> None:
        confirmed = self._check_checkpoints(seq, entry_hash)
        if self.prev_hash is not None and prev_hash != self.prev_hash:
            self._link_broken(seq, entry_hash, confirmed)
        self.prev_hash = entry_hash
        self.prev_confirmed = confirmed
        self.expected = seq + 1
        self.count += 1
        self.last_seq, self.last_hash = seq, entry_hash

    def _check_checkpoints(self, seq: int, entry_hash: str) -> bool:
        for checkpoint in self.by_seq.get(seq, ()):
            if checkpoint.entry_hash != entry_hash:
                raise _Broken(seq, f"does not match signed checkpoint {checkpoint.label}")
        return seq in self.by_seq

    def _link_broken(self, seq: int, entry_hash: str, confirmed: bool) -> None:
        if seq == self.start_seq and self.start_seq == 1:
            raise _Broken(seq, "link broken (prev_hash is not the genesis hash)")
        if self.prev_confirmed:
            raise _Broken(seq, f"link broken (prev_hash is not the hash of entry {seq - 1})")
        if confirmed:
            self._blame_previous(seq)
        # Either the previous entry was rewritten with a recomputed hash, or this
        # entry's link was; the next entry, by linking to this one or not, decides.
        self.pending = (seq, entry_hash)

    def _resolve_link(self, successor_seq: int | None, successor_prev: Any) -> None:
        assert self.pending is not None
        seq, entry_hash = self.pending
        if successor_seq == seq + 1 and successor_prev != entry_hash:
            raise _Broken(seq, f"link broken (prev_hash is not the hash of entry {seq - 1})")
        self._blame_previous(seq)

    def _blame_previous(self, seq: int) -> None:
        raise _Broken(seq - 1, f"rewritten (its hash is not the one entry {seq} links to)")

    def finish(self, checkpoints: Sequence[Checkpoint], head: tuple[int, str] | None) -> None:
        if self.pending is not None:
            self._resolve_link(None, None)
        if checkpoints:
            latest = max(checkpoints, key=lambda checkpoint: checkpoint.seq)
            if latest.seq > self.last_seq:
                raise _Broken(
                    self.last_seq + 1,
                    f"missing (the ledger ends at {self.last_seq} but signed checkpoint "
                    f"{latest.label} covers entry {latest.seq})",
                )
        if head is None:
            return
        head_seq, head_hash = head
        if head_seq > self.last_seq:
            raise _Broken(
                self.last_seq + 1,
                f"missing (the ledger ends at {self.last_seq} but its head records "
                f"entry {head_seq})",
            )
        if head_seq < self.last_seq:
            raise _Broken(
                head_seq + 1,
                f"not recorded in the ledger head (the head stops at entry {head_seq})",
            )
        if head_seq > 0 and head_hash != self.last_hash:
            raise _Broken(head_seq, "hash differs from the one the ledger head records")


def check_rows(
    rows: Iterable[Sequence[Any]],
    checkpoints: Sequence[Checkpoint] = (),
    *,
    head: tuple[int, str] | None = None,
    start_seq: int = 1,
    start_prev: str | None = GENESIS_HASH,
) -> VerificationReport:
    """Check rows (``ROW_FIELDS`` tuples in sequence order) against each other.

    ``start_seq`` and ``start_prev`` let a caller check only a tail: pass the first
    sequence number wanted and ``None`` for a link that is not checked.
    """
    started = time.monotonic()
    check = _ChainCheck(checkpoints, start_seq, start_prev)
    problem: LedgerProblem | None = None
    try:
        for row in rows:
            check.feed(row)
        check.finish(checkpoints, head)
    except _Broken as broken:
        problem = broken.problem
    return VerificationReport(
        entries=check.count,
        last_seq=check.last_seq,
        last_hash=check.last_hash,
        checkpoints=len(checkpoints),
        problem=problem,
        elapsed_seconds=time.monotonic() - started,
    )


def _column(attname: str) -> str:
    columns = {field.attname: str(field.column) for field in LedgerEntry._meta.concrete_fields}
    return connection.ops.quote_name(columns[attname])


def stream_rows(
    start_seq: int = 1, chunk_size: int = 5000, stop_seq: int | None = None
) -> Generator[Sequence[Any], None, None]:
    """Yield ledger rows as ``ROW_FIELDS`` tuples in sequence order, chunk by chunk."""
    bounds: dict[str, int] = {"seq__gte": start_seq}
    if stop_seq is not None:
        bounds["seq__lte"] = stop_seq
    if connection.vendor != "postgresql":
        yield from (
            LedgerEntry.objects.filter(**bounds)
            .order_by("seq")
            .values_list(*ROW_FIELDS)
            .iterator(chunk_size=chunk_size)
        )
        return

    # A server-side cursor read without the ORM: building tuples through Django's
    # converters costs more than checking them. The three JSON columns arrive as one
    # JSON array in text, parsed in one call instead of three (by the standard
    # decoder: orjson turns integers beyond 64 bits into floats); the times
    # arrive as text in the canonical form (UTC, microseconds, "+00:00"), which the
    # database writes faster than Python formats a datetime.
    table = connection.ops.quote_name(LedgerEntry._meta.db_table)
    columns = ", ".join(_select(index, name) for index, name in enumerate(ROW_FIELDS))
    packed = ", ".join(_column(ROW_FIELDS[index]) for index in _JSONS)
    sql = (
        f"SELECT {columns}, json_build_array({packed})::text "  # noqa: S608
        f"FROM {table} WHERE seq >= %s AND seq <= %s ORDER BY seq"
    )
    first, second, third = _JSONS
    connection.ensure_connection()
    withhold = connection.get_autocommit()
    cursor = connection.connection.cursor(name="ledger_verify", binary=True, withhold=withhold)
    # One thread fetches the next chunk while this one checks the current chunk, so
    # the database and the checking run on two cores instead of taking turns.
    with cursor, ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-fetch") as pool:
        cursor.execute(sql, [start_seq, stop_seq if stop_seq is not None else 2**63 - 1])
        upcoming = pool.submit(cursor.fetchmany, chunk_size)
        while chunk := upcoming.result():
            upcoming = pool.submit(cursor.fetchmany, chunk_size)
            for row in chunk:
                values = list(row)
                values[first], values[second], values[third] = _decode(values.pop())
                yield values


def _select(index: int, name: str) -> str:
    if index in _JSONS:
        return "NULL"
    if index in _TIMES:
        return (
            f"to_char({_column(name)} AT TIME ZONE 'UTC', "
            """'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""
        )
    return _column(name)


def _read_head() -> tuple[int, str] | None:
    head = LedgerHead.objects.filter(id=1).values_list("seq", "entry_hash").first()
    return None if head is None else (head[0], head[1])


def _begin_snapshot() -> None:
    # The head and every entry must come from one snapshot, or an append committed
    # mid-way would look like a truncation.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")


def verify_ledger(
    *,
    checkpoint_dir: Path | None = None,
    public_key: Ed25519PublicKey | None = None,
    chunk_size: int = 5000,
) -> VerificationReport:
    """Verify the whole ledger and its signed checkpoints."""
    directory = checkpoint_dir or checkpoint_files.checkpoint_directory()
    started = time.monotonic()
    try:
        checkpoints = checkpoint_files.load_checkpoints(
            directory, public_key or checkpoint_files.verify_key()
        )
    except checkpoint_files.CheckpointError as exc:
        return VerificationReport(0, 0, "", 0, LedgerProblem(None, str(exc)))

    fresh_transaction = not connection.in_atomic_block
    with transaction.atomic():
        if fresh_transaction:
            _begin_snapshot()
        head = _read_head()
        with closing(stream_rows(chunk_size=chunk_size)) as rows:
            report = check_rows(rows, checkpoints, head=head)

    elapsed = time.monotonic() - started
    if report.intact:
        logger.info(
            "ledger verified: %s entries, head %s, %s checkpoints, %.0f ms",
            report.entries,
            report.last_seq,
            report.checkpoints,
            elapsed * 1000,
        )
    else:
        logger.error("ledger verification failed: %s", report.problem)
    return VerificationReport(
        entries=report.entries,
        last_seq=report.last_seq,
        last_hash=report.last_hash,
        checkpoints=report.checkpoints,
        problem=report.problem,
        elapsed_seconds=elapsed,
    )


def verify_since(checkpoint: Checkpoint | None, chunk_size: int = 5000) -> VerificationReport:
    """Verify only the entries from ``checkpoint`` (or the start) to the newest one."""
    start_seq = checkpoint.seq if checkpoint else 1
    with closing(stream_rows(start_seq, chunk_size)) as rows:
        if checkpoint is None:
            return check_rows(rows)
        return check_rows(rows, [checkpoint], start_seq=start_seq, start_prev=None)
