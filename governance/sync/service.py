"""Run sync passes: the lease, the steps in order, and the record of how they went."""

import logging
import os
import time
from collections.abc import Callable

from django.db.models import Q
from django.utils import timezone

from governance.mlflow_gateway import MlflowGateway
from governance.models import MlflowSource, SyncRun
from governance.sync.context import SyncPass, redact_uri
from governance.sync.lease import claim_lease
from governance.sync.registry import link_training_runs, sync_registry
from governance.sync.summary import Counts, SyncFailed, SyncSummary
from governance.sync.tracking import (
    sync_experiments,
    sync_logged_models,
    sync_metric_history,
    sync_runs,
)

logger = logging.getLogger(__name__)

# MLflow reads these itself; their values must never reach a log line or a record.
_CREDENTIAL_VARIABLES = (
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_TRACKING_TOKEN",
)

Progress = Callable[[int], None]


def sync_source(
    source_id: int, *, full: bool = False, progress: Progress | None = None
) -> SyncSummary:
    """Mirror one MLflow source: everything on a full pass, what moved otherwise."""
    kind = SyncRun.Kind.FULL if full else SyncRun.Kind.INCREMENTAL
    return _run(source_id, kind, "", progress)


def sync_model(source_id: int, model_name: str) -> SyncSummary:
    """Mirror one registered model with its versions and aliases, now."""
    return _run(source_id, SyncRun.Kind.MODEL, model_name, None)


def _steps(p: SyncPass, kind: str, target: str) -> None:
    if kind == SyncRun.Kind.MODEL:
        _timed(p, "registry", lambda: sync_registry(p, only=target))
    else:
        experiments = sync_experiments(p)
        _timed(p, "runs", lambda: sync_runs(p, experiments))
        _timed(p, "logged models", lambda: sync_logged_models(p, experiments))
        _timed(p, "registry", lambda: sync_registry(p))
    link_training_runs(p)
    _timed(p, "metric history", lambda: sync_metric_history(p))


def _timed(p: SyncPass, step: str, action: Callable[[], None]) -> None:
    clock = time.monotonic()
    action()
    logger.debug(
        "sync of source %s read %s in %d ms",
        p.source.pk,
        step,
        int((time.monotonic() - clock) * 1000),
    )


def _previous_success(source: MlflowSource, kind: str, target: str) -> SyncRun | None:
    covering = Q(kind__in=[SyncRun.Kind.FULL, SyncRun.Kind.INCREMENTAL])
    if kind == SyncRun.Kind.MODEL:
        covering |= Q(kind=SyncRun.Kind.MODEL, target=target)
    return (
        SyncRun.objects.filter(covering, source=source, status=SyncRun.Status.SUCCEEDED)
        .order_by("-started_at")
        .first()
    )


def _run(source_id: int, kind: str, target: str, progress: Progress | None) -> SyncSummary:
    source = MlflowSource.objects.get(pk=source_id)
    lease = claim_lease(source_id)
    if lease is None:
        logger.info("%s sync of source %s skipped: another sync holds its lease", kind, source_id)
        return SyncSummary(skipped=True)

    clock = time.monotonic()
    try:
        source.refresh_from_db()
        started_at = timezone.now()
        previous = _previous_success(source, kind, target)
        record = SyncRun.objects.create(
            source=source,
            kind=kind,
            target=target,
            started_at=started_at,
            # Changes seen now happened after the previous pass began reading.
            window_start=previous.started_at if previous else None,
        )
        MlflowSource.objects.filter(pk=source_id).update(last_started_at=started_at)
        counts = Counts()
        logger.info("%s sync %s of source %s started%s", kind, record.pk, source_id, _about(target))
        try:
            p = SyncPass(
                source=source,
                gateway=MlflowGateway(source.tracking_uri),
                full=kind == SyncRun.Kind.FULL,
                lease=lease,
                started_at=started_at,
                window_start=record.window_start,
                # Until a pass over the whole source succeeds, what is found is a baseline.
                initial=not SyncRun.objects.filter(
                    source=source,
                    status=SyncRun.Status.SUCCEEDED,
                    kind__in=[SyncRun.Kind.FULL, SyncRun.Kind.INCREMENTAL],
                ).exists(),
                counts=counts,
                progress=progress,
            )
            _steps(p, kind, target)
        except Exception as exc:
            elapsed_ms = int((time.monotonic() - clock) * 1000)
            message = _describe(exc)
            _record_failure(source, record, message, counts, elapsed_ms)
            logger.warning(
                "%s sync %s of source %s failed after %d ms: %s",
                kind,
                record.pk,
                source_id,
                elapsed_ms,
                message,
            )
            raise SyncFailed(f"sync of source {source.name} failed: {message}") from exc

        elapsed_ms = int((time.monotonic() - clock) * 1000)
        _record_success(source, record, p, elapsed_ms)
    finally:
        lease.release()

    logger.info(
        "%s sync %s of source %s finished%s: created=%d updated=%d unchanged=%d "
        "deleted=%d events=%d elapsed_ms=%d",
        kind,
        record.pk,
        source_id,
        _about(target),
        counts.created,
        counts.updated,
        counts.unchanged,
        counts.deleted,
        counts.events,
        elapsed_ms,
    )
    return SyncSummary(
        created=counts.created,
        updated=counts.updated,
        unchanged=counts.unchanged,
        deleted=counts.deleted,
        events=counts.events,
        elapsed_ms=elapsed_ms,
    )


def _about(target: str) -> str:
    return f" for model {target!r}" if target else ""


def _describe(exc: Exception) -> str:
    """Say what failed without leaking credentials that may sit in a URI or message."""
    text = redact_uri(f"{type(exc).__name__}: {exc}")
    for variable in _CREDENTIAL_VARIABLES:
        secret = os.environ.get(variable, "")
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return text[:2000]


def _record_failure(
    source: MlflowSource, record: SyncRun, message: str, counts: Counts, elapsed_ms: int
) -> None:
    now = timezone.now()
    record.status = SyncRun.Status.FAILED
    record.finished_at = now
    record.error = message
    record.counts = counts.as_dict()
    record.save(update_fields=["status", "finished_at", "error", "counts"])
    MlflowSource.objects.filter(pk=source.pk).update(
        last_error=message, last_error_at=now, last_duration_ms=elapsed_ms
    )


def _record_success(source: MlflowSource, record: SyncRun, p: SyncPass, elapsed_ms: int) -> None:
    now = timezone.now()
    record.status = SyncRun.Status.SUCCEEDED
    record.finished_at = now
    record.counts = p.counts.as_dict()
    record.save(update_fields=["status", "finished_at", "counts"])

    status: dict[str, object] = {
        "last_success_at": now,
        "last_counts": record.counts,
        "last_duration_ms": elapsed_ms,
    }
    if p.full:
        status["last_full_success_at"] = now
    # Watermarks only move forward, and only when a pass completed.
    if p.runs_watermark_ms and p.runs_watermark_ms > (source.runs_watermark_ms or 0):
        status["runs_watermark_ms"] = p.runs_watermark_ms
    if p.versions_watermark_ms and p.versions_watermark_ms > (source.versions_watermark_ms or 0):
        status["versions_watermark_ms"] = p.versions_watermark_ms
    MlflowSource.objects.filter(pk=source.pk).update(**status)
