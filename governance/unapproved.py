"""Flag registry changes seen in MLflow that no approval explains.

A stage or alias change observed by the sync is explained when a request of this
system for the same model, target and version was applied in or after the
observation window, or is approved and being applied (the sync may read MLflow
between the apply's write and its commit). A version moved to Archived is also
explained when an applied request put another version into the stage it left,
since MLflow archives the previous holders of Staging and Production then.
Everything else gets an ``mlflow.unapproved_change`` entry for the officers.
"""

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from django.db.models import Q, QuerySet

from governance.ledger import EntryDraft
from governance.models import LedgerEntry, TransitionRequest

UNAPPROVED_ACTION = "mlflow.unapproved_change"

# Observed actions that change who holds a stage or an alias.
GOVERNED_ACTIONS = frozenset(
    {"mlflow.stage_changed", "mlflow.alias_set", "mlflow.alias_moved", "mlflow.alias_removed"}
)
_EXPLAINING = (TransitionRequest.Status.APPLIED, TransitionRequest.Status.APPROVED)


def _candidates(draft: EntryDraft) -> QuerySet[TransitionRequest]:
    requests = TransitionRequest.objects.filter(
        registered_model__source__name=draft.source_name,
        registered_model__name=draft.model_name,
        status__in=_EXPLAINING,
    )
    if draft.window_start is not None:
        # An apply before the window was already seen by an earlier pass.
        requests = requests.filter(
            Q(applied_at__isnull=True) | Q(applied_at__gte=draft.window_start)
        )
    return requests


def _left_stage(draft: EntryDraft) -> Any:
    before = draft.before
    return before.get("stage") if isinstance(before, dict) else before


def is_explained(draft: EntryDraft) -> bool:
    """Return whether an approved request of ours accounts for an observed change."""
    if draft.action not in GOVERNED_ACTIONS or draft.action == "mlflow.alias_removed":
        # No request removes an alias, so a removal is never explained.
        return False
    if draft.version is None:
        return False
    kind = (
        TransitionRequest.TargetKind.STAGE
        if draft.action == "mlflow.stage_changed"
        else TransitionRequest.TargetKind.ALIAS
    )
    requests = _candidates(draft).filter(target_kind=kind)
    if requests.filter(target=draft.target, model_version__version=draft.version).exists():
        return True
    if kind == TransitionRequest.TargetKind.STAGE and draft.target == "Archived":
        left = _left_stage(draft)
        return (
            left in ("Staging", "Production")
            and requests.filter(target=left).exclude(model_version__version=draft.version).exists()
        )
    return False


def flag_unapproved(observed: Sequence[EntryDraft]) -> list[EntryDraft]:
    """Return one ``mlflow.unapproved_change`` draft per unexplained governed change.

    The sync calls this with the drafts it observed for one model and appends the
    result in the same transaction.
    """
    # The observed draft already carries the object, window and before/after; only
    # the action and what was observed differ.
    return [
        replace(draft, action=UNAPPROVED_ACTION, details={"observed_action": draft.action})
        for draft in observed
        if draft.action in GOVERNED_ACTIONS and not is_explained(draft)
    ]


def list_unapproved_changes(source_name: str = "", model_name: str = "") -> QuerySet[LedgerEntry]:
    """Return the unapproved changes on the ledger, newest first, optionally for one model."""
    entries = LedgerEntry.objects.filter(action=UNAPPROVED_ACTION)
    if source_name:
        entries = entries.filter(source_name=source_name)
    if model_name:
        entries = entries.filter(model_name=model_name)
    return entries.order_by("-seq")
