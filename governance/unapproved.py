"""Flag registry changes seen in MLflow that no applied approval explains."""

from collections.abc import Sequence

from governance.ledger import EntryDraft

# Observed actions that change who holds a stage or an alias.
GOVERNED_ACTIONS = frozenset(
    {"mlflow.stage_changed", "mlflow.alias_set", "mlflow.alias_moved", "mlflow.alias_removed"}
)


def flag_unapproved(observed: Sequence[EntryDraft]) -> list[EntryDraft]:
    """Return one ``mlflow.unapproved_change`` draft per unexplained governed change.

    The sync calls this with the drafts it observed for one model and appends the
    result in the same transaction.
    """
    # TODO(workflow): exclude changes explained by an applied approval once the
    # apply step exists; until then no change in MLflow went through approval.
    return [
        EntryDraft(
            action="mlflow.unapproved_change",
            object_type=draft.object_type,
            object_id=draft.object_id,
            precision=draft.precision,
            source_name=draft.source_name,
            model_name=draft.model_name,
            version=draft.version,
            target=draft.target,
            before=draft.before,
            after=draft.after,
            details={"observed_action": draft.action},
            window_start=draft.window_start,
            window_end=draft.window_end,
        )
        for draft in observed
        if draft.action in GOVERNED_ACTIONS
    ]
