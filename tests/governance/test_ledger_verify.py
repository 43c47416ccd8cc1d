"""The chain check, adversarially: random chains, random tampering, the right entry named.

These tests drive the pure row check with chains built in memory, so Hypothesis can
try many of them quickly; tests/governance/test_ledger_tampering.py does the same
through the database, the real checkpoint files and the command.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance import ledger
from governance.checkpoints import Checkpoint
from governance.ledger_verify import check_rows

Row = list[Any]
_INDEX = {name: index for index, name in enumerate(ledger.PAYLOAD_FIELDS)}
_SEQ, _PREV = _INDEX["seq"], _INDEX["prev_hash"]
_CANONICAL, _HASH = len(ledger.PAYLOAD_FIELDS), len(ledger.PAYLOAD_FIELDS) + 1
_START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _values(seq: int, prev_hash: str, salt: int) -> Row:
    payload: dict[str, Any] = dict.fromkeys(ledger.PAYLOAD_FIELDS, "")
    payload.update(
        seq=seq,
        recorded_at=_START + timedelta(seconds=seq, microseconds=salt),
        actor_id=None,
        action=("request.created", "decision.approved", "mlflow.alias_set")[salt % 3],
        object_type="transition_request",
        object_id=str(salt),
        model_name="fraud <script>alert(1)</script> ✓",
        version=salt % 7 + 1,
        target="champion",
        before={"version": salt % 5},
        after={"version": salt % 7 + 1, "score": 0.5 + salt},
        reason=f"reason {salt}",
        details={"request_id": salt},
        precision="recorded",
        window_start=None,
        window_end=None,
        corrects_id=None,
        prev_hash=prev_hash,
    )
    return [payload[name] for name in ledger.PAYLOAD_FIELDS]


def _seal(values: Row) -> Row:
    """Compute canonical text and hash from the columns, as an attacker with the code can."""
    canonical = ledger.canonical_bytes(ledger.payload_from_values(values[:_CANONICAL]))
    return [*values[:_CANONICAL], canonical, ledger.hash_text(canonical)]


def _relink(rows: list[Row], start: int) -> None:
    """Reseal rows from index ``start`` on, each linked to the one before."""
    for index in range(start, len(rows)):
        previous = rows[index - 1][_HASH] if index else ledger.GENESIS_HASH
        rows[index] = _seal([*rows[index][:_PREV], previous])


def build_chain(length: int, salt: int = 0) -> list[Row]:
    rows: list[Row] = []
    previous = ledger.GENESIS_HASH
    for seq in range(1, length + 1):
        row = _seal(_values(seq, previous, salt + seq))
        rows.append(row)
        previous = row[_HASH]
    return rows


def checkpoint_at(rows: list[Row], seq: int) -> Checkpoint:
    written_at = _START + timedelta(hours=1, minutes=seq)
    return Checkpoint(seq, rows[seq - 1][_HASH], written_at, key_id="", signature="")


def head_of(rows: list[Row]) -> tuple[int, str]:
    return (rows[-1][_SEQ], rows[-1][_HASH]) if rows else (0, ledger.GENESIS_HASH)


@dataclass
class Ledger:
    rows: list[Row]
    checkpoints: list[Checkpoint]
    head: tuple[int, str]

    def first_problem(self) -> tuple[int | None, str]:
        report = check_rows(
            sorted(self.rows, key=lambda row: row[_SEQ]), self.checkpoints, head=self.head
        )
        assert report.problem is not None, "the tampering went unnoticed"
        return report.problem.seq, str(report.problem)


# Each tampering edits a chain in place and returns the sequence number the verifier
# must name. They act as a careful attacker would: the head is kept consistent.
Tampering = Callable[[Ledger, st.DataObject], int]
_EDITABLE = {
    "reason": "a better reason",
    "actor_name": "Somebody Else",
    "after": {"version": 99},
    "details": {"request_id": -1},
    "model_name": "another model",
    "version": 42,
    "recorded_at": _START - timedelta(days=30),
    "precision": "exact",
    "prev_hash": "f" * 64,
    "window_end": _START,
}


def edit_column(state: Ledger, data: st.DataObject) -> int:
    seq = data.draw(st.integers(1, len(state.rows)), label="seq")
    field = data.draw(st.sampled_from(sorted(_EDITABLE)), label="field")
    state.rows[seq - 1][_INDEX[field]] = _EDITABLE[field]
    return seq


def edit_record_keeping_hash(state: Ledger, data: st.DataObject) -> int:
    seq = data.draw(st.integers(1, len(state.rows)), label="seq")
    row = state.rows[seq - 1]
    row[_INDEX["reason"]] = "rewritten reason"
    state.rows[seq - 1] = [*_seal(row)[:_HASH], row[_HASH]]
    return seq


def edit_and_rehash(state: Ledger, data: st.DataObject) -> int:
    seq = data.draw(st.integers(1, len(state.rows) - 1), label="seq")
    row = state.rows[seq - 1]
    row[_INDEX["after"]] = {"version": 1000}
    state.rows[seq - 1] = _seal(row)
    return seq


def delete_entry(state: Ledger, data: st.DataObject) -> int:
    seq = data.draw(st.integers(1, len(state.rows) - 1), label="seq")
    del state.rows[seq - 1]
    return seq


def delete_and_renumber(state: Ledger, data: st.DataObject) -> int:
    seq = data.draw(st.integers(1, len(state.rows) - 1), label="seq")
    del state.rows[seq - 1]
    for row in state.rows[seq - 1 :]:
        row[_SEQ] -= 1
    state.head = (state.head[0] - 1, state.head[1])
    return seq


def swap_entries(state: Ledger, data: st.DataObject) -> int:
    first = data.draw(st.integers(1, len(state.rows) - 1), label="first")
    second = data.draw(st.integers(first + 1, len(state.rows)), label="second")
    rows = state.rows
    rows[first - 1][_SEQ], rows[second - 1][_SEQ] = second, first
    return first


def insert_forged(state: Ledger, data: st.DataObject) -> int:
    seq = data.draw(st.integers(1, len(state.rows)), label="seq")
    previous = state.rows[seq - 2][_HASH] if seq > 1 else ledger.GENESIS_HASH
    for row in state.rows[seq - 1 :]:
        row[_SEQ] += 1
    state.rows.insert(seq - 1, _seal(_values(seq, previous, salt=7_777)))
    state.head = (state.head[0] + 1, state.head[1])
    return seq


def replace_forged(state: Ledger, data: st.DataObject) -> int:
    seq = data.draw(st.integers(1, len(state.rows) - 1), label="seq")
    previous = state.rows[seq - 2][_HASH] if seq > 1 else ledger.GENESIS_HASH
    state.rows[seq - 1] = _seal(_values(seq, previous, salt=9_999))
    return seq


def truncate_tail(state: Ledger, data: st.DataObject) -> int:
    covered = max(checkpoint.seq for checkpoint in state.checkpoints)
    seq = data.draw(st.integers(1, covered), label="first removed")
    del state.rows[seq - 1 :]
    state.head = head_of(state.rows)
    return seq


def rewrite_tail(state: Ledger, data: st.DataObject) -> int:
    covered = max(checkpoint.seq for checkpoint in state.checkpoints)
    seq = data.draw(st.integers(1, covered), label="first rewritten")
    state.rows[seq - 1][_INDEX["reason"]] = "history, improved"
    _relink(state.rows, seq - 1)
    state.head = head_of(state.rows)
    return min(checkpoint.seq for checkpoint in state.checkpoints if checkpoint.seq >= seq)


TAMPERINGS: list[Tampering] = [
    edit_column,
    edit_record_keeping_hash,
    edit_and_rehash,
    delete_entry,
    delete_and_renumber,
    swap_entries,
    insert_forged,
    replace_forged,
    truncate_tail,
    rewrite_tail,
]


@st.composite
def ledgers(draw: st.DrawFn) -> Ledger:
    length = draw(st.integers(2, 30), label="length")
    rows = build_chain(length, salt=draw(st.integers(0, 1000), label="salt"))
    seqs = draw(st.sets(st.integers(1, length), min_size=1, max_size=3), label="checkpoints")
    return Ledger(rows, [checkpoint_at(rows, seq) for seq in sorted(seqs)], head_of(rows))


@settings(max_examples=60, deadline=None)
@given(state=ledgers())
def test_it_accepts_every_untouched_chain(state: Ledger) -> None:
    report = check_rows(state.rows, state.checkpoints, head=state.head)

    assert report.problem is None
    assert (report.entries, report.last_seq) == (len(state.rows), len(state.rows))


@pytest.mark.parametrize("tamper", TAMPERINGS, ids=lambda tamper: tamper.__name__)
@settings(max_examples=40, deadline=None)
@given(state=ledgers(), data=st.data())
def test_it_names_the_tampered_entry(tamper: Tampering, state: Ledger, data: st.DataObject) -> None:
    expected = tamper(state, data)

    seq, message = state.first_problem()

    assert seq == expected, message
    assert message.startswith(f"entry {expected}: ")


def test_it_reports_a_changed_column_with_its_name() -> None:
    rows = build_chain(5)
    rows[2][_INDEX["reason"]] = "edited"

    report = check_rows(rows)

    assert str(report.problem) == "entry 3: columns differ from the hashed record (reason)"


def test_it_reports_a_hash_mismatch() -> None:
    rows = build_chain(5)
    rows[3][_HASH] = "0" * 64

    report = check_rows(rows)

    assert str(report.problem) == (
        "entry 4: hash mismatch (the stored record does not hash to entry_hash)"
    )


def test_it_reports_a_gap_in_the_sequence() -> None:
    rows = build_chain(15)
    del rows[11]

    report = check_rows(rows)

    assert str(report.problem) == "entry 12: missing (sequence jumps from 11 to 13)"


def test_it_reports_a_rewritten_tail_by_its_checkpoint() -> None:
    rows = build_chain(45)
    checkpoint = checkpoint_at(rows, 40)
    rows[29][_INDEX["reason"]] = "quietly changed"
    _relink(rows, 29)

    report = check_rows(rows, [checkpoint], head=head_of(rows))

    assert str(report.problem) == (
        "entry 40: does not match signed checkpoint 2026-03-01T10:40:00.000000+00:00"
    )


def test_it_reports_a_truncation_below_a_checkpoint() -> None:
    rows = build_chain(10)
    checkpoint = checkpoint_at(rows, 8)

    report = check_rows(rows[:6], [checkpoint], head=head_of(rows[:6]))

    assert str(report.problem) == (
        "entry 7: missing (the ledger ends at 6 but signed checkpoint "
        "2026-03-01T10:08:00.000000+00:00 covers entry 8)"
    )


def test_it_reports_a_truncation_the_head_remembers() -> None:
    rows = build_chain(10)

    report = check_rows(rows[:6], head=head_of(rows))

    assert str(report.problem) == (
        "entry 7: missing (the ledger ends at 6 but its head records entry 10)"
    )


def test_it_reports_an_entry_appended_past_the_head() -> None:
    rows = build_chain(10)

    report = check_rows(rows, head=head_of(rows[:9]))

    assert str(report.problem) == (
        "entry 10: not recorded in the ledger head (the head stops at entry 9)"
    )


def test_it_names_the_entry_rewritten_with_a_recomputed_hash() -> None:
    rows = build_chain(6)
    rows[2][_INDEX["after"]] = {"version": 7}
    rows[2] = _seal(rows[2])

    report = check_rows(rows, head=head_of(rows))

    assert str(report.problem) == "entry 3: rewritten (its hash is not the one entry 4 links to)"


def test_it_accepts_an_empty_ledger() -> None:
    report = check_rows([], head=(0, ledger.GENESIS_HASH))

    assert report.intact
    assert report.entries == 0
