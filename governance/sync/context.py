"""The state one sync pass carries from step to step."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from governance.mlflow_gateway import MlflowGateway
from governance.models import MlflowSource
from governance.sync.lease import Lease
from governance.sync.summary import Counts

# Re-read this much before a watermark: clients stamp runs with their own clocks, and a
# run or version written just before the last pass may commit just after it. Anything
# older that slips past is caught by the scheduled full reconciliation.
WATERMARK_OVERLAP_MS = 60 * 1000

_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@]+@")


def redact_uri(text: str) -> str:
    """Hide user:password@ in any URI inside ``text``."""
    return _USERINFO.sub(r"\g<scheme>***@", text)


@dataclass
class SyncPass:
    source: MlflowSource
    gateway: MlflowGateway
    full: bool
    lease: Lease
    # When this pass began reading, and when the previous successful one did: a
    # change seen now happened in between.
    started_at: datetime
    window_start: datetime | None
    # No full or incremental pass of this source has succeeded yet: what is found is
    # a starting point for timelines, marked ``details.initial`` on its events.
    initial: bool
    counts: Counts = field(default_factory=Counts)
    progress: Callable[[int], None] | None = None
    runs_watermark_ms: int | None = None
    versions_watermark_ms: int | None = None

    def saw_run_time(self, *epoch_ms: int | None) -> None:
        for value in epoch_ms:
            if value is not None and (self.runs_watermark_ms or 0) < value:
                self.runs_watermark_ms = value

    def saw_version_time(self, epoch_ms: int | None) -> None:
        if epoch_ms is not None and (self.versions_watermark_ms or 0) < epoch_ms:
            self.versions_watermark_ms = epoch_ms

    def tick(self, runs: int) -> None:
        self.lease.keep_alive()
        if self.progress is not None:
            self.progress(runs)
