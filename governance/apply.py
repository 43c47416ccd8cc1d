"""Apply approved transitions to MLflow through the outbox, exactly once.

An approval commits an :class:`~governance.models.ApplyOutbox` row with its ledger
entry; :func:`dispatch` then sends the ``governance.apply_transition`` task, and
:func:`relay_outbox` re-sends rows that were never picked up or whose retry is due,
so a lost broker message or a dead worker loses nothing.

:func:`apply_outbox` holds a row lock on the outbox row from the first MLflow read
to the final commit. A second worker handed the same row skips it, so MLflow sees
one write; a worker that dies mid-way drops its connection and its lock, nothing it
did in the database commits, and the next attempt finds MLflow already in the
target state and only records the result.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from governance import evidence, ledger
from governance.mlflow_gateway import (
    MlflowError,
    MlflowGateway,
    MlflowNotFound,
    MlflowUnavailable,
)
from governance.models import (
    ApplyOutbox,
    Decision,
    ModelVersion,
    RegisteredModel,
    TransitionRequest,
)

logger = logging.getLogger(__name__)

SYSTEM_ROLE = "system"
# MLflow archives the other holders only for these stages, and refuses the flag otherwise.
ARCHIVING_STAGES = ("Staging", "Production")
BUSY = "busy"


@dataclass(frozen=True)
class Outcome:
    """What one apply attempt did to its outbox row."""

    status: str
    detail: str = ""
    retry_at: Any = None


def backoff(attempts: int) -> timedelta:
    """Return the wait before attempt ``attempts + 1``: doubling, capped."""
    base, cap = settings.APPLY_RETRY_BASE_SECONDS, settings.APPLY_RETRY_MAX_SECONDS
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def dispatch(outbox_id: int) -> bool:
    """Send the apply task for one outbox row; return False when the broker refused."""
    from governance.tasks import apply_transition

    # Marked before sending, so an eager run that schedules a retry clears it again.
    ApplyOutbox.objects.filter(pk=outbox_id, status=ApplyOutbox.Status.PENDING).update(
        last_dispatched_at=timezone.now()
    )
    try:
        apply_transition.apply_async((outbox_id,), retry=False)
    except Exception:
        logger.warning(
            "Sending the apply task for outbox %s failed; the relay will resend it",
            outbox_id,
            exc_info=True,
        )
        ApplyOutbox.objects.filter(pk=outbox_id, status=ApplyOutbox.Status.PENDING).update(
            last_dispatched_at=None
        )
        return False
    return True


def relay_outbox() -> int:
    """Re-send pending outbox rows never picked up or due for a retry; return the count."""
    now = timezone.now()
    lease = timedelta(seconds=settings.OUTBOX_DISPATCH_LEASE_SECONDS)
    due = ApplyOutbox.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        Q(last_dispatched_at__isnull=True) | Q(last_dispatched_at__lte=now - lease),
        status=ApplyOutbox.Status.PENDING,
    ).order_by("created_at")
    ids = list(due.values_list("pk", flat=True))
    sent = sum(dispatch(outbox_id) for outbox_id in ids)
    if ids:
        logger.info("Relayed %s of %s due outbox rows", sent, len(ids))
    return sent


def apply_outbox(outbox_id: int) -> Outcome:
    """Apply one approved transition to MLflow and record the result."""
    with transaction.atomic():
        # Only the outbox row is locked ("self"): the joined source and user rows stay
        # free for the sync's lease and for logins while MLflow is being called.
        outbox = (
            ApplyOutbox.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=outbox_id)
            .select_related(
                "request__model_version__registered_model__source", "request__requested_by"
            )
            .first()
        )
        if outbox is None:
            # Another worker holds the row (or it does not exist): nothing to do here.
            logger.info("Outbox %s is being applied elsewhere or does not exist", outbox_id)
            return Outcome(BUSY)
        if outbox.status != ApplyOutbox.Status.PENDING:
            return Outcome(outbox.status, "already settled")
        return _apply_locked(outbox)


def _apply_locked(outbox: ApplyOutbox) -> Outcome:
    request = outbox.request
    version = request.model_version
    model = version.registered_model
    gateway = MlflowGateway(model.source.tracking_uri)
    try:
        remote = gateway.get_model_version(model.name, version.version)
        changed = _changes_since_approval(request, remote.source, remote.run_id)
        if changed:
            return _lapse(outbox, changed)
        before, was_there = _current_holder(gateway, request, remote.stage)
        siblings = _siblings(request)
        if not was_there:
            _write(gateway, request)
        _confirm(gateway, request)
        archived = _read_siblings(gateway, model.name, siblings)
    except MlflowNotFound as exc:
        return _lapse(outbox, [f"the version is gone from MLflow: {exc}"])
    except MlflowUnavailable as exc:
        return _retry(outbox, exc)
    except MlflowError as exc:
        return _fail(outbox, exc)
    return _record_applied(outbox, before, was_there, archived)


def _changes_since_approval(
    request: TransitionRequest, remote_source: str, remote_run_id: str
) -> list[str]:
    version = request.model_version
    frozen = request.evidence["candidate"]["fingerprint"]
    changed = [
        f"mirror {name}" for name in evidence.changed_fields(frozen, evidence.fingerprint(version))
    ]
    remote = {"source_uri": remote_source, "run_id": remote_run_id}
    changed += [f"mlflow {name}" for name in evidence.changed_fields(frozen, remote)]
    bound = {**evidence.identity(version), **remote}
    binding = evidence.binding_hash(bound, request.evidence_hash)
    approvals = request.decisions.filter(meaning=Decision.Meaning.APPROVED)
    if any(decision.binding_hash != binding for decision in approvals):
        changed.append("decision binding")
    return changed


def _current_holder(
    gateway: MlflowGateway, request: TransitionRequest, remote_stage: str
) -> tuple[Any, bool]:
    """Return who held the target before, and whether the version holds it already."""
    number = request.model_version.version
    if request.target_kind == TransitionRequest.TargetKind.STAGE:
        return {"stage": remote_stage}, remote_stage == request.target
    holder = gateway.get_registered_model(request.registered_model.name).aliases.get(request.target)
    return {"version": holder}, holder == number


def _siblings(request: TransitionRequest) -> list[ModelVersion]:
    if request.target_kind != TransitionRequest.TargetKind.STAGE:
        return []
    if request.target not in ARCHIVING_STAGES:
        return []
    return list(
        request.registered_model.versions.filter(
            stage=request.target, deleted_observed_at__isnull=True
        ).exclude(pk=request.model_version_id)
    )


def _write(gateway: MlflowGateway, request: TransitionRequest) -> None:
    name, number = request.registered_model.name, request.model_version.version
    if request.target_kind == TransitionRequest.TargetKind.ALIAS:
        gateway.set_alias(name, request.target, number)
    else:
        gateway.transition_stage(
            name, number, request.target, archive_existing=request.target in ARCHIVING_STAGES
        )
    logger.info(
        "Wrote %s v%s to %s in MLflow for request %s", name, number, request.target, request.pk
    )


def _confirm(gateway: MlflowGateway, request: TransitionRequest) -> None:
    name, number = request.registered_model.name, request.model_version.version
    if request.target_kind == TransitionRequest.TargetKind.ALIAS:
        seen: Any = gateway.get_registered_model(name).aliases.get(request.target)
        confirmed = seen == number
    else:
        seen = gateway.get_model_version(name, number).stage
        confirmed = seen == request.target
    if not confirmed:
        # Someone moved it again between the write and the read; try again later.
        raise MlflowUnavailable(f"read back {request.target} as {seen!r} after writing it")


def _read_siblings(
    gateway: MlflowGateway, name: str, siblings: list[ModelVersion]
) -> list[tuple[ModelVersion, str]]:
    return [(row, gateway.get_model_version(name, row.version).stage) for row in siblings]


def _names(request: TransitionRequest) -> tuple[list[str], str]:
    approvers = [
        decision.signer_name
        for decision in request.decisions.filter(meaning=Decision.Meaning.APPROVED)
    ]
    requester = request.requested_by
    return approvers, requester.get_full_name() or requester.get_username()


def _draft(
    request: TransitionRequest, action: str, precision: str, **fields: Any
) -> ledger.EntryDraft:
    model = request.registered_model
    return ledger.EntryDraft(
        action=action,
        object_type="transition_request",
        object_id=str(request.pk),
        precision=precision,
        actor_role=SYSTEM_ROLE,
        source_name=model.source.name,
        model_name=model.name,
        version=request.model_version.version,
        target=request.target,
        **fields,
    )


def _record_applied(
    outbox: ApplyOutbox,
    before: Any,
    was_there: bool,
    archived: list[tuple[ModelVersion, str]],
) -> Outcome:
    request = outbox.request
    version = request.model_version
    model = request.registered_model
    now = timezone.now()

    if request.target_kind == TransitionRequest.TargetKind.ALIAS:
        # Re-read under a lock: a sync may have recorded other aliases meanwhile.
        model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
        model.aliases = {**(model.aliases or {}), request.target: version.version}
        model.save(update_fields=["aliases"])
        after: dict[str, Any] = {"version": version.version}
    else:
        version.stage = request.target
        version.save(update_fields=["stage"])
        after = {"stage": request.target}
    for sibling, stage in archived:
        if sibling.stage != stage:
            sibling.stage = stage
            sibling.save(update_fields=["stage"])

    outbox.status = ApplyOutbox.Status.DONE
    outbox.attempts += 1
    outbox.completed_at = now
    outbox.last_error = ""
    outbox.save(update_fields=["status", "attempts", "completed_at", "last_error"])
    request.status = TransitionRequest.Status.APPLIED
    request.applied_at = now
    request.save(update_fields=["status", "applied_at"])

    approvers, requested_by = _names(request)
    ledger.append(
        _draft(
            request,
            "request.applied",
            "exact",
            before=before,
            after=after,
            details={
                "target_kind": request.target_kind,
                "request_id": request.pk,
                "approvers": approvers,
                "requested_by": requested_by,
                "archived_versions": [
                    row.version for row, stage in archived if stage == "Archived"
                ],
                "already_in_target": was_there,
                "attempts": outbox.attempts,
            },
        )
    )
    logger.info(
        "Applied request %s: %s v%s to %s after %s attempts",
        request.pk,
        model.name,
        version.version,
        request.target,
        outbox.attempts,
    )
    return Outcome(ApplyOutbox.Status.DONE)


def _settle(
    outbox: ApplyOutbox,
    outbox_status: str,
    request_status: str,
    action: str,
    reason: str,
    details: dict[str, Any],
) -> Outcome:
    request = outbox.request
    now = timezone.now()
    outbox.status = outbox_status
    outbox.attempts += 1
    outbox.completed_at = now
    outbox.last_error = reason
    outbox.save(update_fields=["status", "attempts", "completed_at", "last_error"])
    request.status = request_status
    request.failure_reason = reason
    request.save(update_fields=["status", "failure_reason"])
    ledger.append(
        _draft(
            request,
            action,
            "recorded",
            reason=reason,
            before={"status": TransitionRequest.Status.APPROVED},
            after={"status": request_status},
            details={"request_id": request.pk, **details},
        )
    )
    return Outcome(outbox_status, reason)


def _lapse(outbox: ApplyOutbox, changed: list[str]) -> Outcome:
    reason = "the version changed since approval: " + ", ".join(changed)
    logger.warning("Request %s is stale and was not applied: %s", outbox.request_id, reason)
    return _settle(
        outbox,
        ApplyOutbox.Status.STALE,
        TransitionRequest.Status.STALE,
        "request.stale",
        reason,
        {"changed": changed},
    )


def _fail(outbox: ApplyOutbox, exc: MlflowError) -> Outcome:
    reason = f"MLflow refused the change: {exc}"
    logger.warning("Request %s failed permanently (%s)", outbox.request_id, type(exc).__name__)
    return _settle(
        outbox,
        ApplyOutbox.Status.FAILED,
        TransitionRequest.Status.FAILED,
        "request.failed",
        reason,
        {"error": type(exc).__name__},
    )


def _retry(outbox: ApplyOutbox, exc: MlflowUnavailable) -> Outcome:
    # A transient failure changes no governed state, so it is logged, not put on the
    # ledger; the row records the attempt and when the relay may try again.
    outbox.attempts += 1
    outbox.next_attempt_at = timezone.now() + backoff(outbox.attempts)
    outbox.last_dispatched_at = None
    outbox.last_error = str(exc)[:2000]
    outbox.save(update_fields=["attempts", "next_attempt_at", "last_dispatched_at", "last_error"])
    logger.warning(
        "Applying outbox %s failed transiently (attempt %s); retry at %s",
        outbox.pk,
        outbox.attempts,
        outbox.next_attempt_at.isoformat(),
    )
    return Outcome(ApplyOutbox.Status.PENDING, outbox.last_error, outbox.next_attempt_at)
