"""Answer which version held a stage or an alias of a model at a moment, from the ledger.

Two kinds of entry move a stage or an alias. ``request.applied`` entries record a
change this system made and confirmed, so it is known to the second (``exact``).
The sync's ``mlflow.*`` entries record a change it noticed between two passes, so it
happened somewhere in ``(window_start, window_end]`` (``observed``); a moment inside
that window gets an uncertain answer naming both candidates. A window without a start
(the first pass over a model) reaches back to the beginning.

A sync usually also observes a change this system applied; an observation whose
window contains an applied entry with the same outcome is that change, not another.
Corrections (``ledger.correction``) are not applied to the history here.

A holder established by an applied request also carries why: the requester's
rationale and each approving officer's, read from that request's own entries.
"""

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from operator import attrgetter
from typing import Any

from django.utils.hashable import make_hashable

from governance.models import LedgerEntry

STAGE = "stage"
ALIAS = "alias"
APPLIED = "request.applied"
REQUESTED = "request.created"
APPROVED = "decision.approved"
REQUEST_OBJECT = "transition_request"
_ALIAS_ACTIONS = ("mlflow.alias_set", "mlflow.alias_moved", "mlflow.alias_removed")
_STAGE_ACTIONS = ("mlflow.stage_changed", "mlflow.version_registered")
_DELETED = "mlflow.version_deleted"
# Stages a version can hold that are worth asking about; "None" means no stage.
_NO_STAGE = "None"


@dataclass(frozen=True)
class Approval:
    """An officer's signed approval of the request that established a holder."""

    signer: str
    reason: str
    entry_seq: int


@dataclass(frozen=True)
class Holding:
    """Who held a stage or an alias at a moment, and how precisely that is known.

    ``version`` is the settled holder (``None``: nobody). When the moment falls inside
    an observation window of a change, ``uncertain`` is true and ``candidates`` lists
    the holder before and after that change.
    """

    target_kind: str
    target: str
    moment: datetime
    version: int | None
    precision: str
    entry_seq: int | None
    action: str
    established_at: datetime | None
    window_start: datetime | None = None
    window_end: datetime | None = None
    request_id: Any = None
    requested_by: str = ""
    approved_by: tuple[str, ...] = ()
    request_reason: str = ""
    approvals: tuple[Approval, ...] = ()
    applied_by: str = ""
    also_holding: tuple[int, ...] = ()
    uncertain: bool = False
    candidates: tuple[int | None, ...] = ()
    uncertain_entry_seq: int | None = None

    @property
    def precision_text(self) -> str:
        """Say how precisely the answer is known, for people."""
        if self.precision == LedgerEntry.Precision.EXACT and not self.uncertain:
            return "exact"
        start = self.window_start.isoformat() if self.window_start else "the first sync"
        end = self.window_end.isoformat() if self.window_end else "now"
        prefix = "uncertain: changed " if self.uncertain else ""
        return f"{prefix}observed between {start} and {end}"


@dataclass(frozen=True)
class _Change:
    """One move of one key (an alias name, or a version for stages) to a new value."""

    seq: int
    key: Any
    value: Any
    start: datetime | None
    end: datetime
    exact: bool
    row: Mapping[str, Any] = field(compare=False)
    archives_others: bool = False


_ROW_FIELDS = (
    "seq",
    "action",
    "version",
    "target",
    "before",
    "after",
    "details",
    "precision",
    "window_start",
    "window_end",
    "recorded_at",
    "actor_name",
    "actor_username",
)


_MOVING_ACTIONS = (APPLIED, _DELETED, *_ALIAS_ACTIONS, *_STAGE_ACTIONS)
# A model is named by its MLflow source and its registered name, as on the ledger.
ModelKey = tuple[str, str]


def _rows(source_name: str, model_name: str) -> list[dict[str, Any]]:
    return list(
        LedgerEntry.objects.filter(
            source_name=source_name, model_name=model_name, action__in=_MOVING_ACTIONS
        )
        .order_by("seq")
        .values(*_ROW_FIELDS)
    )


def _rows_of_models(models: Iterable[ModelKey]) -> dict[ModelKey, list[dict[str, Any]]]:
    """Return the rows of each model, reading the ledger in one query."""
    rows: dict[ModelKey, list[dict[str, Any]]] = {model: [] for model in models}
    if not rows:
        return rows
    entries = (
        LedgerEntry.objects.filter(
            source_name__in={source for source, _ in rows},
            model_name__in={name for _, name in rows},
            action__in=_MOVING_ACTIONS,
        )
        .order_by("seq")
        .values("source_name", "model_name", *_ROW_FIELDS)
    )
    for row in entries:
        found = rows.get((row["source_name"], row["model_name"]))
        if found is not None:
            found.append(row)
    return rows


def _value(payload: Any, key: str) -> Any:
    return payload.get(key) if isinstance(payload, Mapping) else None


def _timing(row: Mapping[str, Any]) -> tuple[datetime | None, datetime, bool]:
    if row["precision"] == LedgerEntry.Precision.EXACT:
        return row["recorded_at"], row["recorded_at"], True
    return row["window_start"], row["window_end"] or row["recorded_at"], False


def _move(row: Mapping[str, Any], kind: str) -> tuple[Any, Any, bool] | None:
    """Return (key, new value, archives others) if the entry moves ``kind``, else None."""
    action, version = row["action"], row["version"]
    if action == APPLIED:
        if _value(row["details"], "target_kind") != kind:
            return None
        if kind == ALIAS:
            return row["target"], _value(row["after"], "version") or version, False
        stage = _value(row["after"], "stage") or row["target"]
        # The apply archives the stage's other versions in the same call.
        return version, stage, stage not in (_NO_STAGE, "Archived")
    if action == _DELETED:
        return ("deleted", version), None, False
    if kind == ALIAS and action in _ALIAS_ACTIONS:
        return row["target"], _value(row["after"], "version"), False
    if kind == STAGE and action in _STAGE_ACTIONS:
        return version, _value(row["after"], "stage"), False
    return None


def _changes(rows: Iterable[Mapping[str, Any]], kind: str) -> list[_Change]:
    changes: list[_Change] = []
    for row in rows:
        move = _move(row, kind)
        if move is None:
            continue
        start, end, exact = _timing(row)
        key, value, archives_others = move
        changes.append(_Change(row["seq"], key, value, start, end, exact, row, archives_others))
        if kind == STAGE and row["action"] == APPLIED:
            # Named so that the sync's later sight of these archivals is an echo.
            for version in _value(row["details"], "archived_versions") or ():
                changes.append(_Change(row["seq"], version, "Archived", start, end, exact, row))
    return _without_echoes(changes)


def _outcome(change: _Change) -> Hashable:
    # A JSON payload may hold a list or an object; make_hashable turns them into
    # tuples, which no other key or value of a change is compared with.
    outcome: Hashable = make_hashable((change.key, change.value))
    return outcome


def _without_echoes(changes: list[_Change]) -> list[_Change]:
    """Drop observations of changes that an exact (applied) entry already records.

    The applied ends are indexed by outcome and sorted, so that each observation is
    one binary search rather than a scan of every applied entry: a model with
    thousands of entries otherwise took seconds.
    """
    applied_ends: dict[Hashable, list[datetime]] = defaultdict(list)
    for change in changes:
        if change.exact:
            applied_ends[_outcome(change)].append(change.end)
    for ends in applied_ends.values():
        ends.sort()
    return [change for change in changes if change.exact or not _is_echo(change, applied_ends)]


def _is_echo(change: _Change, applied_ends: Mapping[Hashable, list[datetime]]) -> bool:
    """Say whether an applied change with the same outcome ended inside the window."""
    ends = applied_ends.get(_outcome(change), [])
    first = 0 if change.start is None else bisect_left(ends, change.start)
    return first < len(ends) and ends[first] <= change.end


class _Replay:
    """The state after every change that had certainly happened by the moment."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.state: dict[Any, tuple[Any, _Change]] = {}

    def apply(self, change: _Change) -> None:
        key = change.key
        if isinstance(key, tuple):  # a deleted version leaves its stage and aliases
            self._forget_version(key[1], change)
            return
        if change.archives_others:
            for other, (stage, _) in list(self.state.items()):
                if other != key and stage == change.value:
                    self.state[other] = ("Archived", change)
        self.state[key] = (change.value, change)

    def _forget_version(self, version: int, change: _Change) -> None:
        for key, (value, _) in list(self.state.items()):
            if (self.kind == ALIAS and value == version) or (self.kind == STAGE and key == version):
                self.state[key] = (None, change)

    def holders(self, target: str) -> list[tuple[int, _Change]]:
        """Return (version, establishing change) for the target, newest first."""
        if self.kind == ALIAS:
            value, change = self.state.get(target, (None, None))
            return [] if value is None or change is None else [(value, change)]
        found = [
            (version, change) for version, (stage, change) in self.state.items() if stage == target
        ]
        return sorted(found, key=lambda item: (item[1].end, item[1].seq), reverse=True)


def _settled_and_pending(
    changes: list[_Change], kind: str, moment: datetime
) -> tuple[_Replay, list[_Change]]:
    replay = _Replay(kind)
    for change in sorted(changes, key=attrgetter("end", "seq")):
        if change.end <= moment:
            replay.apply(change)
    pending = [
        change
        for change in changes
        if change.end > moment and (change.start is None or change.start <= moment)
    ]
    return replay, pending


def _uncertain_change(
    replay: _Replay, pending: list[_Change], target: str, current: set[int]
) -> tuple[_Change, tuple[int | None, ...]] | None:
    for change in sorted(pending, key=attrgetter("seq")):
        before_version = min(current) if current else None
        if replay.kind == ALIAS and change.key == target:
            if change.value not in current:
                return change, (before_version, change.value)
        elif replay.kind == STAGE and not isinstance(change.key, tuple):
            holds_now = change.key in current
            holds_after = change.value == target
            if holds_now != holds_after:
                after_version = change.key if holds_after else None
                return change, (before_version, after_version)
        elif isinstance(change.key, tuple) and change.key[1] in current:
            return change, (before_version, None)
    return None


def _holding(
    kind: str,
    target: str,
    moment: datetime,
    replay: _Replay,
    pending: list[_Change],
) -> Holding | None:
    holders = replay.holders(target)
    current = {version for version, _ in holders}
    doubt = _uncertain_change(replay, pending, target, current)
    if not holders and doubt is None:
        return None

    established = holders[0][1] if holders else None
    row: Mapping[str, Any] = established.row if established else {}
    details = row.get("details") or {}
    approvers = _value(details, "approvers") or _value(details, "approved_by") or ()
    window_source = doubt[0] if doubt else established
    return Holding(
        target_kind=kind,
        target=target,
        moment=moment,
        version=holders[0][0] if holders else None,
        precision=(
            LedgerEntry.Precision.EXACT
            if established and established.exact and doubt is None
            else LedgerEntry.Precision.OBSERVED
        ),
        entry_seq=row.get("seq"),
        action=row.get("action", ""),
        established_at=established.end if established else None,
        window_start=window_source.start if window_source and not window_source.exact else None,
        window_end=window_source.end if window_source and not window_source.exact else None,
        request_id=_value(details, "request_id"),
        requested_by=str(_value(details, "requested_by") or ""),
        approved_by=tuple(str(name) for name in approvers),
        applied_by=row.get("actor_name") or row.get("actor_username") or "",
        also_holding=tuple(version for version, _ in holders[1:]),
        uncertain=doubt is not None,
        candidates=doubt[1] if doubt else (),
        uncertain_entry_seq=doubt[0].seq if doubt else None,
    )


def _check_kind(target_kind: str) -> None:
    if target_kind not in (STAGE, ALIAS):
        raise ValueError(f"target_kind must be 'stage' or 'alias', not {target_kind!r}")


def _holder_in(
    rows: list[dict[str, Any]], target_kind: str, target: str, moment: datetime
) -> Holding | None:
    changes = _changes(rows, target_kind)
    replay, pending = _settled_and_pending(changes, target_kind, moment)
    return _holding(target_kind, target, moment, replay, pending)


def _holders_in(rows: list[dict[str, Any]], moment: datetime) -> list[Holding]:
    holdings: list[Holding] = []
    for kind in (STAGE, ALIAS):
        changes = _changes(rows, kind)
        replay, pending = _settled_and_pending(changes, kind, moment)
        if kind == STAGE:
            targets = {change.value for change in changes if isinstance(change.value, str)}
            targets.discard(_NO_STAGE)
        else:
            targets = {change.key for change in changes if isinstance(change.key, str)}
        for target in sorted(targets):
            holding = _holding(kind, target, moment, replay, pending)
            if holding is not None:
                holdings.append(holding)
    return holdings


def _with_reasons(holdings: dict[ModelKey, list[Holding]]) -> dict[ModelKey, list[Holding]]:
    """Add the rationale of the request and of each approval behind every holder."""
    wanted = {
        (model, str(holding.request_id))
        for model, found in holdings.items()
        for holding in found
        if holding.request_id is not None
    }
    if not wanted:
        return holdings
    entries = (
        LedgerEntry.objects.filter(
            source_name__in={source for (source, _), _ in wanted},
            model_name__in={name for (_, name), _ in wanted},
            action__in=(REQUESTED, APPROVED),
            object_type=REQUEST_OBJECT,
            object_id__in={request_id for _, request_id in wanted},
        )
        .order_by("seq")
        .values_list(
            "source_name",
            "model_name",
            "object_id",
            "action",
            "reason",
            "seq",
            "actor_name",
            "actor_username",
        )
    )
    reasons: dict[tuple[ModelKey, str], str] = {}
    approvals: dict[tuple[ModelKey, str], list[Approval]] = defaultdict(list)
    for source, name, request_id, action, reason, seq, actor_name, username in entries:
        key = ((source, name), request_id)
        if action == REQUESTED:
            reasons[key] = reason
        else:
            approvals[key].append(Approval(actor_name or username, reason, seq))
    return {
        model: [
            replace(
                holding,
                request_reason=reasons.get((model, str(holding.request_id)), ""),
                approvals=tuple(approvals.get((model, str(holding.request_id)), ())),
            )
            if holding.request_id is not None
            else holding
            for holding in found
        ]
        for model, found in holdings.items()
    }


def holder_at(
    source_name: str, model_name: str, target_kind: str, target: str, moment: datetime
) -> Holding | None:
    """Return which version held stage or alias ``target`` of a model at ``moment``."""
    _check_kind(target_kind)
    model = (source_name, model_name)
    holding = _holder_in(_rows(source_name, model_name), target_kind, target, moment)
    return _with_reasons({model: [holding]})[model][0] if holding else None


def holder_at_each(
    models: Iterable[ModelKey], target_kind: str, target: str, moment: datetime
) -> dict[ModelKey, Holding | None]:
    """Return ``holder_at`` for each (source name, model name), reading the ledger once."""
    _check_kind(target_kind)
    found = {
        model: _holder_in(rows, target_kind, target, moment)
        for model, rows in _rows_of_models(models).items()
    }
    explained = _with_reasons(
        {model: [holding] for model, holding in found.items() if holding is not None}
    )
    return {model: explained[model][0] if model in explained else None for model in found}


def holders_at(source_name: str, model_name: str, moment: datetime) -> list[Holding]:
    """Return the holder of every stage and alias of a model at ``moment``."""
    model = (source_name, model_name)
    return _with_reasons({model: _holders_in(_rows(source_name, model_name), moment)})[model]


def holders_at_each(models: Iterable[ModelKey], moment: datetime) -> dict[ModelKey, list[Holding]]:
    """Return ``holders_at`` for each (source name, model name), reading the ledger once."""
    return _with_reasons(
        {model: _holders_in(rows, moment) for model, rows in _rows_of_models(models).items()}
    )
