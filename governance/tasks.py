"""Celery tasks: each takes primitive ids and calls one service.

Tasks are acknowledged late, so a worker that dies mid-task leaves the message to be
delivered again; every task here is safe to run twice. The sync service logs each
pass (started, finished with counts, skipped, failed), so the sync tasks add no lines.
"""

import dataclasses
import logging
from typing import Any

from celery import shared_task

from governance import sync
from governance.models import MlflowSource
from governance.sources import ensure_sources

logger = logging.getLogger(__name__)


def _outcome(run: Any) -> dict[str, Any]:
    try:
        summary: sync.SyncSummary = run()
    except sync.SyncFailed as exc:
        # The service recorded the error on the source and the next scheduled pass
        # retries; raising would only fail an eager caller such as a web request.
        return {"error": str(exc)}
    return dataclasses.asdict(summary)


@shared_task(name="governance.sync_source", acks_late=True, ignore_result=True)
def sync_source(source_id: int, full: bool = False) -> dict[str, Any]:
    """Sync one source, incrementally or fully; a sync already running skips it."""
    return _outcome(lambda: sync.sync_source(source_id, full=full))


@shared_task(name="governance.sync_model", acks_late=True, ignore_result=True)
def sync_model(source_id: int, model_name: str) -> dict[str, Any]:
    """Sync one registered model of a source, as a webhook asks."""
    return _outcome(lambda: sync.sync_model(source_id, model_name))


@shared_task(name="governance.sync_all_sources", acks_late=True, ignore_result=True)
def sync_all_sources(full: bool = False) -> None:
    """Enqueue one sync per enabled source, configured or added by an admin."""
    ensure_sources()
    source_ids = list(MlflowSource.objects.filter(enabled=True).values_list("id", flat=True))
    for source_id in source_ids:
        sync_source.delay(source_id, full=full)
    logger.info("enqueued %d %s syncs", len(source_ids), "full" if full else "incremental")


@shared_task(name="governance.apply_transition", acks_late=True, ignore_result=True)
def apply_transition(outbox_id: int) -> None:
    """Apply one approved transition to MLflow; safe to run twice."""
    from governance.apply import apply_outbox

    outcome = apply_outbox(outbox_id)
    logger.info("apply of outbox %s ended %s", outbox_id, outcome.status)


@shared_task(name="governance.relay_outbox", acks_late=True, ignore_result=True)
def relay_outbox() -> None:
    """Re-send outbox rows that were never picked up or whose retry is due."""
    from governance.apply import relay_outbox as relay

    relay()


@shared_task(name="governance.write_ledger_checkpoint", acks_late=True, ignore_result=True)
def write_ledger_checkpoint() -> None:
    """Sign the ledger's newest entry into a checkpoint file; unchanged heads are skipped."""
    from governance.checkpoints import write_checkpoint

    write_checkpoint()
