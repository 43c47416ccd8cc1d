"""One sync per source at a time, across processes, on PostgreSQL and SQLite alike.

The lease is a token and an expiry on the source row, claimed by a conditional UPDATE
that only one writer can win. A holder that dies leaves a lease that expires.
"""

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from governance.models import MlflowSource
from governance.sync.summary import SyncFailed

logger = logging.getLogger(__name__)

LEASE_TTL = timedelta(minutes=10)


@dataclass
class Lease:
    source_id: int
    token: str
    renewed_at: datetime = field(default_factory=timezone.now)

    def keep_alive(self) -> None:
        """Extend the lease when half of it has run out; fail if it was lost."""
        now = timezone.now()
        if now - self.renewed_at < LEASE_TTL / 2:
            return
        claimed = MlflowSource.objects.filter(
            pk=self.source_id, sync_lease_token=self.token
        ).update(sync_lease_expires_at=now + LEASE_TTL)
        if not claimed:
            raise SyncFailed(f"the sync lease of source {self.source_id} was lost")
        self.renewed_at = now

    def release(self) -> None:
        MlflowSource.objects.filter(pk=self.source_id, sync_lease_token=self.token).update(
            sync_lease_token="", sync_lease_expires_at=None
        )


def claim_lease(source_id: int) -> Lease | None:
    """Claim the source's sync lease, or return None if another sync holds it."""
    now = timezone.now()
    token = secrets.token_hex(16)
    free = Q(sync_lease_expires_at__isnull=True) | Q(sync_lease_expires_at__lt=now)
    claimed = MlflowSource.objects.filter(free, pk=source_id).update(
        sync_lease_token=token, sync_lease_expires_at=now + LEASE_TTL
    )
    if not claimed:
        return None
    return Lease(source_id=source_id, token=token, renewed_at=now)
