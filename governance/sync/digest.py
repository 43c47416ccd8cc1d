"""Cheap, stable digests of MLflow payloads and conversions at the mirror's edge."""

import hashlib
from datetime import UTC, datetime
from typing import Any


def digest(*parts: Any) -> str:
    """Return a 32-character digest of plain values (str, numbers, tuples, lists).

    ``repr`` of these types is stable across processes, unlike ``hash``; callers sort
    dictionaries first so the order MLflow happened to return does not matter.
    """
    text = repr(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def items(mapping: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(mapping.items()))


def to_datetime(epoch_ms: int | None) -> datetime | None:
    """Turn MLflow's epoch milliseconds into an aware UTC datetime."""
    if epoch_ms is None:
        return None
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)


def clip(value: str, length: int) -> str:
    """Fit a value into an indexed column; the full value stays in the JSON beside it."""
    return value if len(value) <= length else value[:length]
