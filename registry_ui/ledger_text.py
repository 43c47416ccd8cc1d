"""Ledger entries in plain words: what happened, by whom, and how precisely it is known."""

import json
from dataclasses import dataclass
from typing import Any

from governance.models import LedgerEntry
from registry_ui.formatting import time_text

ACTION_WORDS = {
    "request.created": "Change requested",
    "request.cancelled": "Request cancelled",
    "decision.approved": "Approved (signed)",
    "decision.rejected": "Rejected (signed)",
    "request.applied": "Applied in MLflow",
    "request.failed": "Applying in MLflow failed",
    "request.stale": "Approval lapsed: the version changed",
    "mlflow.stage_changed": "Stage changed in MLflow",
    "mlflow.alias_set": "Alias set in MLflow",
    "mlflow.alias_moved": "Alias moved in MLflow",
    "mlflow.alias_removed": "Alias removed in MLflow",
    "mlflow.version_registered": "Version registered in MLflow",
    "mlflow.version_deleted": "Version deleted in MLflow",
    "mlflow.model_registered": "Model registered in MLflow",
    "mlflow.model_deleted": "Model deleted in MLflow",
    "mlflow.description_changed": "Description changed in MLflow",
    "mlflow.tag_changed": "Tag changed in MLflow",
    "mlflow.unapproved_change": "Unapproved change detected",
    "model.risk_tier_set": "Risk tier set",
    "role.granted": "Role granted",
    "role.revoked": "Role revoked",
    "identity.linked": "MLflow name linked",
    "identity.unlinked": "MLflow name unlinked",
    "security.action_refused": "Action refused",
    "security.login_failed": "Failed login",
    "security.webhook_rejected": "Webhook rejected",
    "ledger.correction": "Correction of an earlier entry",
    "api_token.created": "API token created",
    "api_token.revoked": "API token revoked",
}
ROLE_WORDS = {
    "data_scientist": "data scientist",
    "governance_officer": "governance officer",
    "executive": "executive",
    "admin": "admin",
    "system": "system",
}


def action_words(action: str) -> str:
    """Return ``action`` as a phrase, or the code itself when it has none."""
    return ACTION_WORDS.get(action, action)


def role_words(role: str) -> str:
    return ROLE_WORDS.get(role, role)


def precision_words(entry: LedgerEntry) -> str:
    """Say how precisely the moment of ``entry`` is known."""
    if entry.precision == LedgerEntry.Precision.EXACT:
        return f"exact: {time_text(entry.recorded_at)}"
    if entry.precision == LedgerEntry.Precision.OBSERVED:
        start = time_text(entry.window_start) if entry.window_start else "the first sync"
        end = time_text(entry.window_end) if entry.window_end else time_text(entry.recorded_at)
        return f"observed between {start} and {end}"
    return "recorded when it happened"


def _scalar(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def compact(value: Any) -> str:
    """Return a before/after value as short, stable text ("" for nothing)."""
    if value is None or value == {} or value == []:
        return ""
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_scalar(value[key])}" for key in sorted(value))
    if isinstance(value, list):
        return ", ".join(_scalar(item) for item in value)
    return _scalar(value)


@dataclass(frozen=True)
class EntryRow:
    """An entry with its texts, as the timeline and the audit copy show it."""

    entry: LedgerEntry
    action: str
    actor: str
    role: str
    precision: str
    before: str
    after: str
    # The transition request the entry is about, when it is about one.
    request_pk: int | None = None


def entry_row(entry: LedgerEntry) -> EntryRow:
    actor = entry.actor_name or entry.actor_username or "the system"
    return EntryRow(
        entry=entry,
        action=action_words(entry.action),
        actor=actor,
        # An entry without a person names the system once, not as actor and role.
        role=role_words(entry.actor_role) if entry.actor_id or entry.actor_name else "",
        precision=precision_words(entry),
        before=compact(entry.before),
        after=compact(entry.after),
        request_pk=int(entry.object_id)
        if entry.object_type == "transition_request" and entry.object_id.isdigit()
        else None,
    )
