"""What one sync pass did, and how it reports failure."""

from dataclasses import dataclass


class SyncFailed(Exception):
    """A sync pass stopped before completing; the error is recorded on the source."""


@dataclass(frozen=True)
class SyncSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    events: int = 0
    elapsed_ms: int = 0
    # Another sync of the same source held the lease, so this one did no work.
    skipped: bool = False
    error: str = ""

    def line(self) -> str:
        """Return the one-line summary printed by the command and logged by tasks."""
        return (
            f"created={self.created} updated={self.updated} unchanged={self.unchanged} "
            f"deleted={self.deleted} events={self.events} elapsed_ms={self.elapsed_ms}"
        )


@dataclass
class Counts:
    """Running totals of a pass, over every kind of mirrored object."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    events: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "events": self.events,
        }
