"""Verify the ledger: sequence, links, hashes, columns and signed checkpoints.

Entries are streamed in sequence order as plain tuples, so memory stays flat and no
model instance is built per row. The first problem found ends the check and names
the lowest entry that is wrong, with the reason.
"""

import json
import logging
import operator
import time
from collections.abc import Generator, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import connection, transaction

from governance import checkpoints as checkpoint_files
from governance.checkpoints import Checkpoint
from governance.ledger import (
    GENESIS_HASH,
    PAYLOAD_FIELDS,
    canonical_bytes,
    hash_text,
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
_JSONS = tuple(PAYLOAD_FIELDS.index(name) for name in ("before", "after", "details"))
_pick_plain = operator.itemgetter(
    *(index for index in range(len(PAYLOAD_FIELDS)) if index not in _TIMES + _JSONS)
)
_pick_recorded = operator.itemgetter(*PAYLOAD_FIELDS)


def _strictly_equal(left: Any, right: Any) -> bool:
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(
            _strictly_equal(left[key], right[key]) for key in left
        )
    if isinstance(left, list):
        return len(left) == len(right) and all(map(_strictly_equal, left, right))
    if isinstance(left, float):
        return repr(left) == repr(right)
    return bool(left == right)


def _same_json(left: Any, right: Any) -> bool:
    """Compare JSON values strictly: ``true`` is not ``1`` and ``1.0`` is not ``1``."""
    # repr tells types apart, unlike ==; it is the fast path, and the walk settles
    # the rest (nested objects whose keys the database returned in another order).
    if type(left) is dict and type(right) is dict:
        if repr(sorted(left.items())) == repr(sorted(right.items())):
            return True
    elif repr(left) == repr(right):
        return True
    return _strictly_equal(left, right)


def _same_time(column: datetime | None, recorded: Any) -> bool:
    if column is None or recorded is None:
        return column is recorded
    try:
        return type(recorded) is str and datetime.fromisoformat(recorded) == column
    except ValueError:
        return False


def _columns_agree(row: Sequence[Any], recorded: Any) -> bool:
    """Tell whether the columns hold what the (already hash-checked) record holds.

    Parsing the record and comparing values costs a third of re-serialising the
    columns, and is equivalent once the record's hash is known good: its times and
    JSON are in the one form ``ledger`` writes, so equal values mean equal text.
    """
    if type(recorded) is not dict or len(recorded) != len(PAYLOAD_FIELDS):
        return False
    try:
        values = _pick_recorded(recorded)
    except KeyError:
        return False
    first, second, third = _TIMES
    before, after, details = _JSONS
    return (
        _pick_plain(row) == _pick_plain(values)
        and _same_time(row[first], values[first])
        and _same_time(row[second], values[second])
        and _same_time(row[third], values[third])
        and _same_json(row[before], values[before])
        and _same_json(row[after], values[after])
        and _same_json(row[details], values[details])
    )


def _differing_fields(row: Sequence[Any], recorded: dict[str, Any]) -> list[str]:
    built = payload_from_values(row[_PAYLOAD])
    names = set(built) | set(recorded)
    return sorted(
        name
        for name in names
        if name not in built
        or name not in recorded
        or canonical_bytes({"v": built[name]}) != canonical_bytes({"v": recorded[name]})
    )


def _check_columns(row: Sequence[Any], seq: int) -> Any:
    """Return the parsed record, or raise unless the columns agree with it exactly."""
    try:
        recorded = json.loads(row[_CANONICAL])
    except ValueError:
        raise _Broken(seq, "the stored record is not valid JSON") from None
    if _columns_agree(row, recorded):
        return recorded
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
    fields = ", ".join(_differing_fields(row, recorded)) or "representation"
    raise _Broken(seq, f"columns differ from the hashed record ({fields})")


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
        self.last_seq = start_seq - 1
        self.last_hash = start_prev or ""

    def feed(self, row: Sequence[Any]) -> None:
        seq = row[_SEQ]
        if self.pending is not None:
            self._resolve_link(row)
        if seq != self.expected:
            if seq < self.expected:
                raise _Broken(seq, f"out of order (after entry {self.expected - 1})")
            if self.expected == 1:
                raise _Broken(1, f"missing (sequence starts at {seq})")
            raise _Broken(
                self.expected,
                f"missing (sequence jumps from {self.expected - 1} to {seq})",
            )

        entry_hash = row[_HASH]
        if hash_text(row[_CANONICAL]) != entry_hash:
            raise _Broken(seq, "hash mismatch (the stored record does not hash to entry_hash)")
        recorded = _check_columns(row, seq)

        confirmed = self._check_checkpoints(seq, entry_hash)
        if self.prev_hash is not None and recorded["prev_hash"] != self.prev_hash:
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

    def _resolve_link(self, successor: Sequence[Any] | None) -> None:
        assert self.pending is not None
        seq, entry_hash = self.pending
        if (
            successor is not None
            and successor[_SEQ] == seq + 1
            and _claimed_prev(successor) != entry_hash
        ):
            raise _Broken(seq, f"link broken (prev_hash is not the hash of entry {seq - 1})")
        self._blame_previous(seq)

    def _blame_previous(self, seq: int) -> None:
        raise _Broken(seq - 1, f"rewritten (its hash is not the one entry {seq} links to)")

    def finish(self, checkpoints: Sequence[Checkpoint], head: tuple[int, str] | None) -> None:
        if self.pending is not None:
            self._resolve_link(None)
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


def stream_rows(start_seq: int = 1, chunk_size: int = 5000) -> Generator[Sequence[Any], None, None]:
    """Yield ledger rows as ``ROW_FIELDS`` tuples in sequence order, chunk by chunk."""
    if connection.vendor != "postgresql":
        yield from (
            LedgerEntry.objects.filter(seq__gte=start_seq)
            .order_by("seq")
            .values_list(*ROW_FIELDS)
            .iterator(chunk_size=chunk_size)
        )
        return

    # A server-side cursor read without the ORM: building tuples through Django's
    # converters costs more than checking them. JSON columns are read as text and
    # parsed here, which is cheaper than the driver's jsonb loader.
    columns = ", ".join(
        f"{_column(name)}::text" if index in _JSONS else _column(name)
        for index, name in enumerate(ROW_FIELDS)
    )
    table = connection.ops.quote_name(LedgerEntry._meta.db_table)
    sql = f"SELECT {columns} FROM {table} WHERE seq >= %s ORDER BY seq"  # noqa: S608
    loads = json.loads
    first, second, third = _JSONS
    connection.ensure_connection()
    name = f"ledger_verify_{id(sql)}"
    withhold = connection.get_autocommit()
    with connection.connection.cursor(name=name, binary=True, withhold=withhold) as cursor:
        cursor.itersize = chunk_size
        cursor.execute(sql, [start_seq])
        while chunk := cursor.fetchmany(chunk_size):
            for row in chunk:
                values = list(row)
                for index in (first, second, third):
                    if values[index] is not None:
                        values[index] = loads(values[index])
                yield values


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
