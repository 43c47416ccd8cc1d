"""Mirror registered models, versions and aliases; record every difference as an event.

Each model is applied in its own transaction together with its ledger entries, so a
failure part-way leaves every model either as it was or fully brought up to date.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from governance import ledger
from governance.ledger import EntryDraft
from governance.mlflow_gateway import (
    MlflowNotFound,
    ModelMetadata,
    RemoteModelVersion,
    RemoteRegisteredModel,
)
from governance.models import LedgerEntry, LoggedModel, ModelVersion, RegisteredModel, Run
from governance.sync.context import WATERMARK_OVERLAP_MS, SyncPass, redact_uri
from governance.sync.digest import clip, digest, items, to_datetime
from governance.sync.tracking import fetch_metadata
from governance.unapproved import flag_unapproved

logger = logging.getLogger(__name__)

# Tag values under keys like these are not copied into the ledger, which must never
# hold a secret; the mirror keeps them as MLflow has them.
_SECRET_WORDS = ("password", "secret", "token", "api_key", "apikey", "credential")
_REDACTED = "[redacted]"
# Versions per page when walking back from the newest update to the watermark.
_RECENT_PAGE = 100

VERSION_FIELDS = [
    "source_uri",
    "run_id",
    "training_run",
    "logged_model_id",
    "status",
    "stage",
    "description",
    "tags",
    "user_id",
    "signature",
    "creation_time",
    "last_updated_time",
    "last_updated_ms",
    "content_hash",
    "deleted_observed_at",
]


def model_digest(rm: RemoteRegisteredModel) -> str:
    return digest(
        rm.description,
        items(rm.tags),
        tuple(sorted(rm.aliases.items())),
        rm.creation_time_ms,
        rm.last_updated_time_ms,
    )


def version_digest(mv: RemoteModelVersion) -> str:
    return digest(
        mv.source,
        mv.run_id,
        mv.model_id,
        mv.status,
        mv.stage,
        mv.description,
        items(mv.tags),
        mv.user_id,
        mv.creation_time_ms,
        mv.last_updated_time_ms,
    )


def _tag_value(key: str, value: str | None) -> str | None:
    if value is not None and any(word in key.lower() for word in _SECRET_WORDS):
        return _REDACTED
    return value


def _tag_pairs(tags: dict[str, str]) -> list[list[str | None]]:
    # Pairs, not a mapping: tag keys are MLflow's, not part of the event's schema.
    return [[key, _tag_value(key, value)] for key, value in sorted(tags.items())]


@dataclass
class _Events:
    """Drafts of one model's observed changes, sharing source, window and model."""

    p: SyncPass
    model_name: str
    window_end: datetime = field(default_factory=timezone.now)
    drafts: list[EntryDraft] = field(default_factory=list)

    def add(
        self,
        action: str,
        *,
        version: int | None = None,
        target: str = "",
        before: Any = None,
        after: Any = None,
    ) -> None:
        source = self.p.source.name
        object_type = "model_version" if version is not None else "registered_model"
        object_id = f"{source}/{self.model_name}"
        if version is not None:
            object_id += f"/{version}"
        self.drafts.append(
            EntryDraft(
                action=action,
                object_type=object_type,
                object_id=object_id,
                precision=LedgerEntry.Precision.OBSERVED,
                source_name=source,
                model_name=self.model_name,
                version=version,
                target=clip(target, 250),
                before=before,
                after=after,
                details={"initial": True} if self.p.initial else {},
                window_start=self.p.window_start,
                window_end=self.window_end,
            )
        )

    def tags(self, old: dict[str, str], new: dict[str, str], version: int | None = None) -> None:
        for key in sorted(old.keys() | new.keys()):
            if old.get(key) != new.get(key):
                self.add(
                    "mlflow.tag_changed",
                    version=version,
                    target=key,
                    before=None if key not in old else {"value": _tag_value(key, old[key])},
                    after=None if key not in new else {"value": _tag_value(key, new[key])},
                )

    def description(self, old: str, new: str, version: int | None = None) -> None:
        if old != new:
            self.add(
                "mlflow.description_changed",
                version=version,
                before={"description": old},
                after={"description": new},
            )

    def aliases(self, old: dict[str, int], new: dict[str, int]) -> None:
        for alias in sorted(old.keys() | new.keys()):
            before, after = old.get(alias), new.get(alias)
            if before == after:
                continue
            if before is None:
                self.add("mlflow.alias_set", version=after, target=alias, after={"version": after})
            elif after is None:
                self.add(
                    "mlflow.alias_removed", version=before, target=alias, before={"version": before}
                )
            else:
                self.add(
                    "mlflow.alias_moved",
                    version=after,
                    target=alias,
                    before={"version": before},
                    after={"version": after},
                )


# Reading ---------------------------------------------------------------------


@dataclass
class _Remote:
    """What MLflow holds for the models of a pass."""

    models: dict[str, RemoteRegisteredModel]
    # Complete version lists, for the models whose versions were read.
    versions: dict[str, list[RemoteModelVersion]]


def _recently_updated(p: SyncPass, since_ms: int) -> set[str]:
    """Names of models with a version updated since ``since_ms``, newest first."""
    names: set[str] = set()
    for mv in p.gateway.iter_model_versions(
        order_by=["last_updated_timestamp DESC"], page_size=_RECENT_PAGE
    ):
        if (mv.last_updated_time_ms or 0) < since_ms:
            break
        names.add(mv.name)
    return names


def _all_versions(p: SyncPass) -> dict[str, list[RemoteModelVersion]]:
    grouped: dict[str, list[RemoteModelVersion]] = defaultdict(list)
    for mv in p.gateway.iter_model_versions():
        grouped[mv.name].append(mv)
    return grouped


def _read_versions(p: SyncPass, names: Iterable[str]) -> dict[str, list[RemoteModelVersion]]:
    found: dict[str, list[RemoteModelVersion]] = {}
    everything: dict[str, list[RemoteModelVersion]] | None = None
    for name in names:
        versions = p.gateway.versions_of(name)
        if versions is None:
            everything = everything if everything is not None else _all_versions(p)
            versions = everything.get(name, [])
        found[name] = versions
    return found


def _existing_models(p: SyncPass, only: str | None) -> dict[str, RegisteredModel]:
    query = RegisteredModel.objects.filter(source=p.source)
    if only is not None:
        query = query.filter(name=only)
    return {m.name: m for m in query}


def _read_remote(
    p: SyncPass, existing: dict[str, RegisteredModel], only: str | None
) -> tuple[_Remote, set[str]]:
    """Read the models and the versions the pass needs; return them and the dirty names."""
    if only is not None:
        try:
            models = {only: p.gateway.get_registered_model(only)}
        except MlflowNotFound:
            models = {}
        live = {n for n, m in existing.items() if m.deleted_observed_at is None}
        names = set(models) | live
        return _Remote(models, _read_versions(p, sorted(models))), names

    models = {rm.name: rm for rm in p.gateway.iter_registered_models()}
    live = {n for n, m in existing.items() if m.deleted_observed_at is None}
    gone = live - set(models)
    watermark = p.source.versions_watermark_ms
    if p.full or watermark is None:
        versions = _all_versions(p)
        return _Remote(models, {n: versions.get(n, []) for n in models}), set(models) | gone

    # Incremental: models whose snapshot moved (aliases, tags, description, a version
    # deleted) and models with a version updated since the watermark.
    dirty = {
        name
        for name, rm in models.items()
        if name not in existing
        or existing[name].deleted_observed_at is not None
        or existing[name].content_hash != model_digest(rm)
    }
    dirty |= _recently_updated(p, watermark - WATERMARK_OVERLAP_MS) & set(models)
    return _Remote(models, _read_versions(p, sorted(dirty))), dirty | gone


# Applying --------------------------------------------------------------------


def sync_registry(p: SyncPass, only: str | None = None) -> None:
    """Mirror registered models (all, or the one named), their versions and aliases."""
    existing = _existing_models(p, only)
    remote, names = _read_remote(p, existing, only)
    for versions in remote.versions.values():
        for mv in versions:
            p.saw_version_time(mv.last_updated_time_ms)
    p.counts.unchanged += len(set(remote.models) - names)
    if not names:
        return

    old_versions: dict[int, list[ModelVersion]] = defaultdict(list)
    model_pks = [existing[n].pk for n in names if n in existing]
    for version in ModelVersion.objects.filter(registered_model_id__in=model_pks):
        old_versions[version.registered_model_id].append(version)
    signatures = _signatures(p, remote, existing, old_versions)
    runs = dict(
        Run.objects.filter(
            source=p.source,
            run_id__in={mv.run_id for vs in remote.versions.values() for mv in vs if mv.run_id},
        ).values_list("run_id", "pk")
    )

    for name in sorted(names):
        old = existing.get(name)
        _apply_model(
            p,
            name,
            remote.models.get(name),
            remote.versions.get(name),
            old,
            old_versions.get(old.pk, []) if old else [],
            signatures,
            runs,
        )
        p.lease.keep_alive()


def _signatures(
    p: SyncPass,
    remote: _Remote,
    existing: dict[str, RegisteredModel],
    old_versions: dict[int, list[ModelVersion]],
) -> dict[str, dict[str, Any] | None]:
    """Read the signature of each version that is new or points at a new source."""
    known = {
        (existing[name].name, v.version): v.source_uri
        for name in existing
        for v in old_versions.get(existing[name].pk, [])
        if v.deleted_observed_at is None
    }
    wanted = [
        mv
        for versions in remote.versions.values()
        for mv in versions
        if known.get((mv.name, mv.version)) != mv.source
    ]
    if not wanted:
        return {}
    # A version made from a logged model shares its MLmodel, already read by the sync.
    logged = dict(
        LoggedModel.objects.filter(
            source=p.source, model_id__in=[mv.model_id for mv in wanted if mv.model_id]
        ).values_list("model_id", "signature")
    )
    found: dict[str, dict[str, Any] | None] = {}
    to_read: dict[str, str] = {}
    for mv in wanted:
        if mv.model_id in logged:
            found[mv.source] = logged[mv.model_id]
        elif mv.model_id:
            # ``models:/m-...`` sources resolve through the registry client, which
            # wants a local store; the logged model's own location needs nothing.
            to_read[mv.source] = _logged_model_location(p, mv.model_id) or mv.source
        else:
            to_read[mv.source] = mv.source
    metadata: dict[str, ModelMetadata] = fetch_metadata(p.gateway, list(to_read.values()))
    found.update({source: metadata[uri].signature for source, uri in to_read.items()})
    return found


def _logged_model_location(p: SyncPass, model_id: str) -> str:
    try:
        return p.gateway.logged_model_location(model_id)
    except MlflowNotFound:
        return ""


def _fill_version(
    row: ModelVersion,
    mv: RemoteModelVersion,
    content: str,
    runs: dict[str, int],
) -> None:
    row.source_uri = mv.source
    row.run_id = clip(mv.run_id, 64)
    row.training_run_id = runs.get(mv.run_id)
    row.logged_model_id = clip(mv.model_id, 64)
    row.status = clip(mv.status, 32)
    row.stage = clip(mv.stage, 32)
    row.description = mv.description
    row.tags = mv.tags
    row.user_id = mv.user_id
    row.creation_time = to_datetime(mv.creation_time_ms)
    row.last_updated_time = to_datetime(mv.last_updated_time_ms)
    row.last_updated_ms = mv.last_updated_time_ms
    row.content_hash = content
    row.deleted_observed_at = None


def _apply_model(
    p: SyncPass,
    name: str,
    rm: RemoteRegisteredModel | None,
    versions: list[RemoteModelVersion] | None,
    old: RegisteredModel | None,
    old_versions: list[ModelVersion],
    signatures: dict[str, dict[str, Any] | None],
    runs: dict[str, int],
) -> None:
    events = _Events(p, name)
    live_versions = [v for v in old_versions if v.deleted_observed_at is None]

    if rm is None:
        if old is None or old.deleted_observed_at is not None:
            return
        for v in sorted(live_versions, key=lambda v: v.version):
            v.deleted_observed_at = events.window_end
            events.add("mlflow.version_deleted", version=v.version, before={"stage": v.stage})
        old.deleted_observed_at = events.window_end
        events.add(
            "mlflow.model_deleted",
            # Pairs, not a mapping: alias names are MLflow's, not the event's schema.
            before={
                "description": old.description,
                "aliases": [[alias, version] for alias, version in sorted(old.aliases.items())],
            },
        )
        with transaction.atomic():
            ModelVersion.objects.bulk_update(live_versions, ["deleted_observed_at"])
            old.save(update_fields=["deleted_observed_at"])
            _append(p, events)
        p.counts.deleted += 1 + len(live_versions)
        return

    model_row, model_dirty, old_aliases = _model_changes(p, events, rm, old)
    change = _version_changes(events, versions, model_row, old_versions, signatures, runs)
    events.aliases(old_aliases, rm.aliases)

    if model_dirty or change.rows or events.drafts:
        with transaction.atomic():
            if model_dirty:
                model_row.save()
            for row in change.created:
                row.registered_model = model_row
            ModelVersion.objects.bulk_create(change.created)
            ModelVersion.objects.bulk_update(change.changed, VERSION_FIELDS)
            _append(p, events)

    if old is None:
        p.counts.created += 1
    elif model_dirty:
        p.counts.updated += 1
    else:
        p.counts.unchanged += 1
    p.counts.created += change.new
    p.counts.updated += change.updated
    p.counts.deleted += change.deleted
    p.counts.unchanged += len(versions or []) - change.new - change.updated


def _model_changes(
    p: SyncPass, events: _Events, rm: RemoteRegisteredModel, old: RegisteredModel | None
) -> tuple[RegisteredModel, bool, dict[str, int]]:
    """Bring the model row up to date; return it, whether it changed, its old aliases."""
    content = model_digest(rm)
    if old is not None and old.deleted_observed_at is None and old.content_hash == content:
        return old, False, dict(old.aliases)

    row = old or RegisteredModel(source=p.source, name=rm.name)
    if old is None or old.deleted_observed_at is not None:
        # New, or a name used again after the model was deleted.
        events.add(
            "mlflow.model_registered",
            after={"description": rm.description, "tags": _tag_pairs(rm.tags)},
        )
        old_aliases: dict[str, int] = {}
    else:
        events.description(old.description, rm.description)
        events.tags(old.tags, rm.tags)
        old_aliases = dict(old.aliases)
    row.description = rm.description
    row.tags = rm.tags
    row.aliases = rm.aliases
    row.creation_time = to_datetime(rm.creation_time_ms)
    row.last_updated_time = to_datetime(rm.last_updated_time_ms)
    row.content_hash = content
    row.deleted_observed_at = None
    return row, True, old_aliases


@dataclass
class _VersionChange:
    created: list[ModelVersion] = field(default_factory=list)
    changed: list[ModelVersion] = field(default_factory=list)
    new: int = 0
    updated: int = 0
    deleted: int = 0

    @property
    def rows(self) -> bool:
        return bool(self.created or self.changed)


def _version_changes(
    events: _Events,
    versions: list[RemoteModelVersion] | None,
    model_row: RegisteredModel,
    old_versions: list[ModelVersion],
    signatures: dict[str, dict[str, Any] | None],
    runs: dict[str, int],
) -> _VersionChange:
    """Return the version rows to create and to update, adding their events."""
    change = _VersionChange()
    if versions is None:
        return change
    by_number = {v.version: v for v in old_versions}

    for mv in sorted(versions, key=lambda v: v.version):
        content = version_digest(mv)
        old = by_number.get(mv.version)
        if old is None or old.deleted_observed_at is not None:
            # New, or a number seen again after its version was deleted.
            row = old or ModelVersion(registered_model=model_row, version=mv.version)
            _fill_version(row, mv, content, runs)
            row.signature = signatures.get(mv.source)
            (change.changed if old else change.created).append(row)
            change.new += 1
            _registered(events, mv)
            continue
        linked = old.training_run_id is not None or runs.get(mv.run_id) is None
        if old.content_hash == content and linked:
            continue
        if old.stage != mv.stage:
            events.add(
                "mlflow.stage_changed",
                version=mv.version,
                target=mv.stage,
                before={"stage": old.stage},
                after={"stage": mv.stage},
            )
        events.description(old.description, mv.description, mv.version)
        events.tags(old.tags, mv.tags, mv.version)
        if old.source_uri != mv.source:
            old.signature = signatures.get(mv.source)
        _fill_version(old, mv, content, runs)
        change.changed.append(old)
        change.updated += 1

    seen = {mv.version for mv in versions}
    for old in sorted(old_versions, key=lambda v: v.version):
        if old.version not in seen and old.deleted_observed_at is None:
            old.deleted_observed_at = events.window_end
            change.changed.append(old)
            change.deleted += 1
            events.add("mlflow.version_deleted", version=old.version, before={"stage": old.stage})
    return change


def _registered(events: _Events, mv: RemoteModelVersion) -> None:
    events.add(
        "mlflow.version_registered",
        version=mv.version,
        after={
            "stage": mv.stage,
            "status": mv.status,
            "source": redact_uri(mv.source),
            "run_id": mv.run_id,
        },
    )
    if not events.p.initial and mv.stage != "None":
        # Registered and moved between two passes: the move is a change of its own.
        events.add(
            "mlflow.stage_changed",
            version=mv.version,
            target=mv.stage,
            before={"stage": "None"},
            after={"stage": mv.stage},
        )


def _append(p: SyncPass, events: _Events) -> None:
    drafts = list(events.drafts)
    drafts += flag_unapproved(drafts)
    ledger.append_many(drafts)
    p.counts.events += len(drafts)


def link_training_runs(p: SyncPass) -> None:
    """Point versions at runs that reached the mirror after the version did."""
    unlinked = list(
        ModelVersion.objects.filter(registered_model__source=p.source, training_run__isnull=True)
        .exclude(run_id="")
        .values_list("pk", "run_id")
    )
    if not unlinked:
        return
    runs = dict(
        Run.objects.filter(
            source=p.source, run_id__in={run_id for _, run_id in unlinked}
        ).values_list("run_id", "pk")
    )
    rows = [
        ModelVersion(pk=pk, training_run_id=runs[run_id])
        for pk, run_id in unlinked
        if run_id in runs
    ]
    if rows:
        ModelVersion.objects.bulk_update(rows, ["training_run"])
