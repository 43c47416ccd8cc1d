"""Any value an entry can hold verifies when untouched, and a changed one is named.

The verifier compares the columns with the hashed record through a fast path
(orjson, times formatted by PostgreSQL) and falls back to the exact encoder. These
examples go through the real database with the values where the two disagree or
where the database changes the spelling: floats orjson writes differently, numbers
beyond 64 bits, large floats that jsonb prints as integers, control characters and
times with and without microseconds in other time zones.
"""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance import ledger
from governance.ledger_verify import VerificationReport, verify_ledger
from governance.models import LedgerEntry

pytestmark = pytest.mark.django_db

_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

numbers = st.one_of(
    st.integers(),
    st.integers(min_value=2**63 - 5, max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e-05, 1e16, 1.5e300, -2.5e-300, 0.1, 100.0, 1e22, 5e-324]),
)
texts = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    max_size=20,
)
# Keys from letters that spell none of the words the ledger refuses (password, token...).
keys = st.text(alphabet='abcdé✓<>"\\\n\x1f\u2028 ', max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
    ),
)


def _append(details: dict[str, Any], after: Any, reason: str, window: datetime) -> None:
    ledger.append_many(
        [
            ledger.EntryDraft(
                action="mlflow.alias_moved",
                object_type="model_version",
                precision="observed",
                model_name=reason,
                reason=reason,
                after=after,
                details=details,
                window_start=window,
                window_end=window + timedelta(microseconds=1),
            )
        ]
    )


def _verify_in_rollback(change: dict[str, Any] | None = None) -> VerificationReport:
    with transaction.atomic():
        if change:
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL session_replication_role = replica")
            LedgerEntry.objects.filter(seq=1).update(**change)
        report = verify_ledger()
        transaction.set_rollback(True)
    return report


@_SETTINGS
@given(
    details=st.dictionaries(keys, json_values, max_size=5),
    after=json_values,
    reason=texts,
    window=moments,
)
def test_an_untouched_entry_verifies_whatever_it_holds(
    details: dict[str, Any], after: Any, reason: str, window: datetime
) -> None:
    with transaction.atomic():
        _append(details, after, reason, window)
        report = _verify_in_rollback()
        transaction.set_rollback(True)

    assert report.problem is None, str(report.problem)
    assert report.entries == 1


@_SETTINGS
@given(details=st.dictionaries(keys, json_values, min_size=1, max_size=5), data=st.data())
def test_a_changed_value_is_named_whatever_the_entry_holds(
    details: dict[str, Any], data: st.DataObject
) -> None:
    key = data.draw(st.sampled_from(sorted(details)), label="changed key")
    replacement = data.draw(json_values.filter(lambda value: _differs(value, details[key])))
    with transaction.atomic():
        _append(details, None, "why", datetime(2026, 1, 1, tzinfo=UTC))
        report = _verify_in_rollback({"details": {**details, key: replacement}})
        transaction.set_rollback(True)

    assert report.problem is not None, "the changed value went unnoticed"
    assert report.problem.seq == 1
    assert "details" in report.problem.reason


def _differs(left: Any, right: Any) -> bool:
    """Whether two JSON values differ in a way jsonb keeps (it holds numbers as decimals)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is not type(right) or left != right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return bool(left != right)
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() != right.keys() or any(_differs(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) != len(right) or any(map(_differs, left, right))
    return type(left) is not type(right) or left != right


def test_a_time_changed_by_one_microsecond_is_named() -> None:
    moment = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    with transaction.atomic():
        _append({}, None, "why", moment)
        report = _verify_in_rollback({"window_start": moment + timedelta(microseconds=1)})
        transaction.set_rollback(True)

    assert report.problem is not None
    assert report.problem.seq == 1
    assert "window_start" in report.problem.reason
