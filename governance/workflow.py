"""The four-eyes workflow: request a transition, cancel it, decide it, set risk tiers.

Each service is one function running one transaction that appends its own ledger
entry. A refused action changes nothing; it appends a ``security.action_refused``
entry in a transaction of its own and raises ``PermissionDenied`` with the reason.
Bad input raises :class:`InvalidRequest`; losing a race raises :class:`Conflict`.
"""

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any, NoReturn

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance import evidence, ledger, permissions
from governance.models import (
    ApplyOutbox,
    Decision,
    LedgerEntry,
    ModelVersion,
    RegisteredModel,
    TransitionRequest,
)
from governance.permissions import Verdict

logger = logging.getLogger(__name__)

OBJECT_TYPE = "transition_request"
WRONG_SIGNATURE = "the password did not match; the decision was not signed"
# Below this length a password would turn up in ordinary words; the validators ask
# for at least 8 characters anyway.
MIN_PASSWORD_IN_TEXT = 6


class InvalidRequest(ValueError):
    """The input cannot make a valid request or decision; the message says why."""


class PasswordInRationale(InvalidRequest):
    """The officer typed their password into the rationale; nothing was signed."""


class Conflict(Exception):
    """Another action got there first (a decision, an open request); nothing changed."""


class SignatureRefused(PermissionDenied):
    """The password did not sign: it did not match, or signing is locked after failures."""


class _Refusal(Exception):
    """Carries a refused verdict out of the transaction, which then rolls back."""

    def __init__(self, verdict: Verdict, **where: Any) -> None:
        super().__init__(verdict.reason)
        self.verdict = verdict
        self.where = where


def _require_text(value: str, what: str) -> str:
    text = value.strip()
    if not text:
        raise InvalidRequest(f"{what} is required")
    if ledger.holds_token(text):
        raise InvalidRequest(
            f"{what} holds what looks like an API token; remove it, and revoke that token, "
            "since the ledger keeps every reason for good"
        )
    return text


def _where(request: TransitionRequest) -> dict[str, Any]:
    version = request.model_version
    return {
        "object_type": OBJECT_TYPE,
        "object_id": str(request.pk),
        "model_name": version.registered_model.name,
        "version": version.version,
        "target": request.target,
    }


def _draft(request: TransitionRequest, action: str, **fields: Any) -> ledger.EntryDraft:
    model = request.registered_model
    return ledger.EntryDraft(
        action=action,
        object_type=OBJECT_TYPE,
        object_id=str(request.pk),
        precision="recorded",
        source_name=model.source.name,
        model_name=model.name,
        version=request.model_version.version,
        target=request.target,
        **fields,
    )


def required_approvals(model: RegisteredModel) -> int:
    """Return how many distinct officers must approve a change of ``model``."""
    return max(1, int(settings.RISK_TIER_APPROVALS.get(model.risk_tier, 1)))


def _holds_target(version: ModelVersion, target_kind: str, target: str) -> bool:
    if target_kind == TransitionRequest.TargetKind.STAGE:
        return version.stage == target
    return (version.registered_model.aliases or {}).get(target) == version.version


def request_transition(
    user: User, version: ModelVersion, target_kind: str, target: str, rationale: str
) -> TransitionRequest:
    """Ask for ``version`` to take a stage or alias, freezing the evidence with it."""
    rationale = _require_text(rationale, "a rationale")
    if target not in permissions.valid_targets(target_kind):
        allowed = ", ".join(permissions.valid_targets(target_kind)) or "stage, alias"
        raise InvalidRequest(f"{target_kind} {target!r} cannot be requested; choose {allowed}")
    model = version.registered_model
    verdict = permissions.can_request(user, version)
    if not verdict:
        permissions.refuse(
            user,
            "request.created",
            verdict,
            object_type="model_version",
            object_id=str(version.pk),
            model_name=model.name,
            version=version.version,
            target=target,
        )

    try:
        with transaction.atomic():
            # Lock the model, then read it and the version afresh: the risk tier and the
            # aliases that decide the approvals and the incumbent are the current ones.
            model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
            version = ModelVersion.objects.select_related(
                "registered_model__source", "training_run"
            ).get(pk=version.pk)
            if _holds_target(version, target_kind, target):
                raise InvalidRequest(f"{version} already holds {target}")
            open_request = TransitionRequest.objects.filter(
                registered_model=model,
                target_kind=target_kind,
                target=target,
                status=TransitionRequest.Status.PENDING,
            ).first()
            if open_request is not None:
                raise Conflict(
                    f"request {open_request.pk} for {target} of {model.name} is already open"
                )
            frozen, frozen_hash = evidence.freeze(version, target_kind, target)
            run = version.training_run
            request = TransitionRequest.objects.create(
                registered_model=model,
                model_version=version,
                target_kind=target_kind,
                target=target,
                requested_by=user,
                rationale=rationale,
                created_at=timezone.now(),
                evidence=frozen,
                evidence_hash=frozen_hash,
                required_approvals=required_approvals(model),
                run_author=run.user_id if run is not None else "",
            )
            incumbent = frozen["incumbent"]
            ledger.append(
                _draft(
                    request,
                    "request.created",
                    actor=user,
                    actor_role=verdict.role,
                    reason=rationale,
                    before={"holder": incumbent["fingerprint"]["version"] if incumbent else None},
                    after={"status": request.status, "version": version.version},
                    details={
                        "target_kind": target_kind,
                        "evidence_hash": frozen_hash,
                        "required_approvals": request.required_approvals,
                    },
                )
            )
    except IntegrityError as exc:
        # The check above runs under the model's lock; the constraint is the backstop.
        raise Conflict(f"a request for {target} of {model.name} is already open") from exc

    logger.info(
        "Request %s created by user %s: %s v%s to %s",
        request.pk,
        user.pk,
        model.name,
        version.version,
        target,
    )
    return request


def cancel_request(user: User, request_id: int, reason: str) -> TransitionRequest:
    """Withdraw a pending request; only its requester may."""
    reason = _require_text(reason, "a reason")
    try:
        with transaction.atomic():
            request = TransitionRequest.objects.select_for_update().get(pk=request_id)
            verdict = permissions.can_cancel(user, request)
            if not verdict:
                raise _Refusal(verdict, **_where(request))
            request.status = TransitionRequest.Status.CANCELLED
            request.decided_at = timezone.now()
            request.save(update_fields=["status", "decided_at"])
            ledger.append(
                _draft(
                    request,
                    "request.cancelled",
                    actor=user,
                    actor_role=verdict.role,
                    reason=reason,
                    before={"status": TransitionRequest.Status.PENDING},
                    after={"status": request.status},
                )
            )
    except _Refusal as refusal:
        permissions.refuse(user, "request.cancelled", refusal.verdict, **refusal.where)

    logger.info("Request %s cancelled by user %s", request.pk, user.pk)
    return request


def decide(user: User, request_id: int, meaning: str, rationale: str, password: str) -> Decision:
    """Sign an approval or rejection of a pending request.

    The officer re-enters their password. Concurrent decisions serialise on the
    request's row: one wins, the others raise :class:`Conflict` and change nothing.
    The approval that completes the required count creates the outbox row, and the
    apply task is sent once the transaction has committed.
    """
    if meaning not in Decision.Meaning.values:
        raise InvalidRequest(f"a decision means approved or rejected, not {meaning!r}")
    rationale = _require_text(rationale, "a rationale")
    attempted = f"decision.{meaning}"
    locked_until = signing_locked_until(user)
    if locked_until is not None:
        # The password is not even checked while locked, so guessing learns nothing.
        _refuse_signature(
            user,
            attempted,
            request_id,
            f"too many wrong passwords: signing is locked until {locked_until:%H:%M} UTC",
        )
    if not user.check_password(password):
        _refuse_signature(user, attempted, request_id, WRONG_SIGNATURE)
    if len(password) >= MIN_PASSWORD_IN_TEXT and password in rationale:
        raise PasswordInRationale(
            "the rationale holds your password; nothing was signed. Remove it, and change "
            "your password if anyone else saw it"
        )

    try:
        with transaction.atomic():
            decision = _decide_locked(user, request_id, meaning, rationale)
    except _Refusal as refusal:
        permissions.refuse(user, attempted, refusal.verdict, **refusal.where)

    logger.info(
        "Decision %s on request %s: %s by user %s",
        decision.pk,
        request_id,
        meaning,
        user.pk,
    )
    return decision


def signing_locked_until(user: User, now: datetime | None = None) -> datetime | None:
    """Return when signing unlocks for ``user``, or ``None`` when it is not locked.

    The failures are the ledger's own refusal entries, so the count holds across
    processes and restarts: ``SIGNING_MAX_FAILURES`` wrong passwords within
    ``SIGNING_LOCKOUT_MINUTES`` lock signing until the oldest of them is that old.
    """
    limit = settings.SIGNING_MAX_FAILURES
    window = timedelta(minutes=settings.SIGNING_LOCKOUT_MINUTES)
    failures = list(
        LedgerEntry.objects.filter(
            action=permissions.REFUSED,
            actor=user,
            reason=WRONG_SIGNATURE,
            recorded_at__gte=(now or timezone.now()) - window,
        )
        .order_by("-seq")
        .values_list("recorded_at", flat=True)[:limit]
    )
    return failures[-1] + window if len(failures) >= limit else None


def _refuse_signature(user: User, attempted: str, request_id: int, reason: str) -> NoReturn:
    request = TransitionRequest.objects.select_related("model_version").get(pk=request_id)
    try:
        permissions.refuse(user, attempted, Verdict(False, reason), **_where(request))
    except PermissionDenied as refused:
        raise SignatureRefused(str(refused)) from None


def _decide_locked(user: User, request_id: int, meaning: str, rationale: str) -> Decision:
    request = TransitionRequest.objects.select_for_update().get(pk=request_id)
    if request.status != TransitionRequest.Status.PENDING:
        raise Conflict(f"request {request.pk} is already {request.status}; nothing was signed")
    verdict = permissions.can_decide(user, request)
    if not verdict:
        raise _Refusal(verdict, **_where(request))

    version = request.model_version
    bound = {**evidence.identity(version), "source_uri": version.source_uri}
    bound["run_id"] = version.run_id
    now = timezone.now()
    decision = Decision.objects.create(
        request=request,
        officer=user,
        requester_id=request.requested_by_id,
        officer_username=user.get_username(),
        officer_email=user.email,
        run_author_user_id=permissions.run_author_owner(request.run_author),
        run_author=request.run_author,
        target=request.target,
        acting_role=verdict.role,
        meaning=meaning,
        rationale=rationale,
        signer_name=user.get_full_name() or user.get_username(),
        signed_at=now,
        binding_hash=evidence.binding_hash(bound, request.evidence_hash),
    )
    approvals = request.decisions.filter(meaning=Decision.Meaning.APPROVED).count()
    if meaning == Decision.Meaning.REJECTED:
        request.status = TransitionRequest.Status.REJECTED
    elif approvals >= request.required_approvals:
        request.status = TransitionRequest.Status.APPROVED
    if request.status != TransitionRequest.Status.PENDING:
        request.decided_at = now
        request.save(update_fields=["status", "decided_at"])

    outbox = None
    if request.status == TransitionRequest.Status.APPROVED:
        outbox = ApplyOutbox.objects.create(request=request, created_at=now)
    ledger.append(
        _draft(
            request,
            f"decision.{meaning}",
            actor=user,
            actor_role=verdict.role,
            reason=rationale,
            before={"status": TransitionRequest.Status.PENDING},
            after={
                "status": request.status,
                "approvals": approvals,
                "required": request.required_approvals,
            },
            details={
                "decision_id": decision.pk,
                "meaning": meaning,
                "signer_name": decision.signer_name,
                "signed_at": ledger.format_time(now),
                "binding_hash": decision.binding_hash,
                "outbox_id": outbox.pk if outbox else None,
            },
        )
    )
    if outbox is not None:
        from governance.apply import dispatch

        # A broker that is down must not undo the approval: the relay sends it later.
        transaction.on_commit(partial(dispatch, outbox.pk), robust=True)
    return decision


def set_risk_tier(user: User, model_id: int, tier: str, reason: str) -> RegisteredModel:
    """Set a model's risk tier; pending requests take the new approval count."""
    reason = _require_text(reason, "a reason")
    if tier not in RegisteredModel.RiskTier.values:
        raise InvalidRequest(
            f"risk tier {tier!r} is not one of {', '.join(RegisteredModel.RiskTier.values)}"
        )
    try:
        with transaction.atomic():
            model = RegisteredModel.objects.select_for_update().get(pk=model_id)
            verdict = permissions.can_set_risk_tier(user, model)
            if not verdict:
                raise _Refusal(verdict, object_type="registered_model", object_id=str(model.pk))
            before = model.risk_tier
            model.risk_tier = tier
            model.save(update_fields=["risk_tier"])
            pending = list(
                model.requests.filter(status=TransitionRequest.Status.PENDING).values_list(
                    "pk", flat=True
                )
            )
            model.requests.filter(pk__in=pending).update(
                required_approvals=required_approvals(model)
            )
            ledger.append(
                ledger.EntryDraft(
                    action="model.risk_tier_set",
                    object_type="registered_model",
                    object_id=str(model.pk),
                    precision="recorded",
                    actor=user,
                    actor_role=verdict.role,
                    source_name=model.source.name,
                    model_name=model.name,
                    reason=reason,
                    before={"risk_tier": before},
                    after={"risk_tier": tier},
                    details={
                        "required_approvals": required_approvals(model),
                        "pending_requests": pending,
                    },
                )
            )
    except _Refusal as refusal:
        permissions.refuse(user, "model.risk_tier_set", refusal.verdict, **refusal.where)

    logger.info("Risk tier of model %s set to %s by user %s", model.pk, tier, user.pk)
    return model
