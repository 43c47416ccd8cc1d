"""Mirror experiments, runs (with metrics and datasets), logged models and histories."""

import logging
import math
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from governance.mlflow_gateway import (
    MlflowError,
    MlflowGateway,
    MlflowNotFound,
    ModelMetadata,
    RemoteLoggedModel,
    RemoteMetric,
    RemoteRun,
)
from governance.models import (
    DatasetInput,
    Experiment,
    LoggedModel,
    MetricHistory,
    ModelVersion,
    Run,
    RunMetric,
)
from governance.sync.context import WATERMARK_OVERLAP_MS, SyncPass
from governance.sync.digest import clip, digest, items, to_datetime
from governance.sync.readers import parallel_pages

logger = logging.getLogger(__name__)

GIT_COMMIT_TAG = "mlflow.source.git.commit"
SOURCE_NAME_TAG = "mlflow.source.name"
PARENT_RUN_TAG = "mlflow.parentRunId"
# Ids for an ``IN`` filter per request; MLflow has no escape for quotes in filters.
_IDS_PER_FILTER = 100

RUN_FIELDS = [
    "experiment",
    "name",
    "status",
    "start_time",
    "end_time",
    "start_time_ms",
    "end_time_ms",
    "user_id",
    "lifecycle_stage",
    "parent_run_id",
    "artifact_uri",
    "params",
    "tags",
    "git_commit",
    "source_name",
    "content_hash",
    "metrics_hash",
    "deleted_observed_at",
]


def _tombstone(deleted: bool, previous: datetime | None, now: datetime) -> datetime | None:
    """Keep the first time a deletion was seen; clear it when the object is back."""
    if not deleted:
        return None
    return previous or now


# Experiments -----------------------------------------------------------------


def sync_experiments(p: SyncPass) -> dict[str, int]:
    """Mirror every experiment; return MLflow experiment id -> row id."""
    remote = list(p.gateway.iter_experiments())
    existing = {e.experiment_id: e for e in Experiment.objects.filter(source=p.source)}
    now = timezone.now()
    created: list[Experiment] = []
    changed: list[Experiment] = []

    for exp in remote:
        content = digest(
            exp.name,
            exp.artifact_location,
            exp.lifecycle_stage,
            items(exp.tags),
            exp.creation_time_ms,
            exp.last_update_time_ms,
        )
        old = existing.get(exp.experiment_id)
        deleted = exp.lifecycle_stage == "deleted"
        if old and old.content_hash == content and (old.deleted_observed_at is not None) == deleted:
            p.counts.unchanged += 1
            continue
        row = old or Experiment(source=p.source, experiment_id=exp.experiment_id)
        row.name = exp.name
        row.artifact_location = exp.artifact_location
        row.lifecycle_stage = exp.lifecycle_stage
        row.tags = exp.tags
        row.creation_time = to_datetime(exp.creation_time_ms)
        row.last_update_time = to_datetime(exp.last_update_time_ms)
        row.content_hash = content
        row.deleted_observed_at = _tombstone(deleted, old.deleted_observed_at if old else None, now)
        (changed if old else created).append(row)

    vanished: list[Experiment] = []
    if p.full:
        seen = {exp.experiment_id for exp in remote}
        for old in existing.values():
            if old.experiment_id not in seen and old.deleted_observed_at is None:
                old.deleted_observed_at = now
                vanished.append(old)

    if created or changed or vanished:
        with transaction.atomic():
            Experiment.objects.bulk_create(created)
            Experiment.objects.bulk_update(
                changed + vanished,
                [
                    "name",
                    "artifact_location",
                    "lifecycle_stage",
                    "tags",
                    "creation_time",
                    "last_update_time",
                    "content_hash",
                    "deleted_observed_at",
                ],
            )
    p.counts.created += len(created)
    p.counts.updated += len(changed)
    p.counts.deleted += len(vanished)
    ids = {e.experiment_id: e.pk for e in existing.values()}
    ids.update({e.experiment_id: e.pk for e in created})
    return ids


# Runs ------------------------------------------------------------------------


def _metric_value(value: float) -> tuple[float | None, bool]:
    # NaN cannot be stored as a float on SQLite; infinities can on both backends.
    if math.isnan(value):
        return None, True
    return value, False


def run_digest(run: RemoteRun) -> str:
    return digest(
        run.experiment_id,
        run.name,
        run.status,
        run.start_time_ms,
        run.end_time_ms,
        run.user_id,
        run.lifecycle_stage,
        run.artifact_uri,
        items(run.params),
        items(run.tags),
        tuple(
            (d.name, d.digest, d.source_type, d.source, d.context, d.schema, d.profile)
            for d in run.datasets
        ),
    )


def metrics_digest(metrics: tuple[RemoteMetric, ...]) -> str:
    return digest(sorted((m.key, m.value, m.step, m.timestamp_ms) for m in metrics))


@dataclass
class _RunChange:
    row: Run
    remote: RemoteRun
    existing_pk: int | None
    core_changed: bool
    metrics_changed: bool


def apply_run_page(p: SyncPass, runs: list[RemoteRun], experiments: dict[str, int]) -> set[str]:
    """Mirror one page of runs in one transaction; return the run ids it held."""
    existing = {
        row[0]: row
        for row in Run.objects.filter(
            source=p.source, run_id__in=[r.run_id for r in runs]
        ).values_list("run_id", "pk", "content_hash", "metrics_hash", "deleted_observed_at")
    }
    now = timezone.now()
    changes: list[_RunChange] = []
    seen: set[str] = set()

    for run in runs:
        p.saw_run_time(run.start_time_ms, run.end_time_ms)
        experiment_pk = experiments.get(run.experiment_id)
        if experiment_pk is None:
            # Created after the experiments were listed; the next pass mirrors both.
            logger.warning(
                "sync of source %s skipped run %s of unknown experiment %s",
                p.source.pk,
                run.run_id,
                run.experiment_id,
            )
            continue
        seen.add(run.run_id)
        core, metrics = run_digest(run), metrics_digest(run.metrics)
        deleted = run.lifecycle_stage == "deleted"
        old = existing.get(run.run_id)
        if old and old[2] == core and old[3] == metrics and (old[4] is not None) == deleted:
            p.counts.unchanged += 1
            continue
        tags = run.tags
        row = Run(
            source=p.source,
            run_id=run.run_id,
            experiment_id=experiment_pk,
            name=run.name,
            status=run.status,
            start_time=to_datetime(run.start_time_ms),
            end_time=to_datetime(run.end_time_ms),
            start_time_ms=run.start_time_ms,
            end_time_ms=run.end_time_ms,
            user_id=run.user_id,
            lifecycle_stage=run.lifecycle_stage,
            parent_run_id=clip(tags.get(PARENT_RUN_TAG, ""), 64),
            artifact_uri=run.artifact_uri,
            params=run.params,
            tags=tags,
            git_commit=clip(tags.get(GIT_COMMIT_TAG, ""), 64),
            source_name=tags.get(SOURCE_NAME_TAG, ""),
            content_hash=core,
            metrics_hash=metrics,
            deleted_observed_at=_tombstone(deleted, old[4] if old else None, now),
        )
        changes.append(
            _RunChange(
                row=row,
                remote=run,
                existing_pk=old[1] if old else None,
                core_changed=not old or old[2] != core,
                metrics_changed=not old or old[3] != metrics,
            )
        )

    if changes:
        _write_runs(changes)
    p.counts.created += sum(1 for c in changes if c.existing_pk is None)
    p.counts.updated += sum(1 for c in changes if c.existing_pk is not None)
    return seen


def _write_runs(changes: list[_RunChange]) -> None:
    with transaction.atomic():
        Run.objects.bulk_create(
            [c.row for c in changes],
            update_conflicts=True,
            unique_fields=["source", "run_id"],
            update_fields=RUN_FIELDS,
            batch_size=1000,
        )
        for change in changes:
            if change.row.pk is None:
                change.row.pk = change.existing_pk

        stale_metrics = [c.row.pk for c in changes if c.metrics_changed and c.existing_pk]
        if stale_metrics:
            RunMetric.objects.filter(run_id__in=stale_metrics).delete()
        metric_rows = []
        for change in changes:
            if not change.metrics_changed:
                continue
            for metric in change.remote.metrics:
                value, is_nan = _metric_value(metric.value)
                metric_rows.append(
                    RunMetric(
                        run_id=change.row.pk,
                        key=metric.key,
                        value=value,
                        is_nan=is_nan,
                        step=metric.step,
                        timestamp_ms=metric.timestamp_ms,
                    )
                )
        RunMetric.objects.bulk_create(metric_rows, batch_size=2000)

        stale_inputs = [c.row.pk for c in changes if c.core_changed and c.existing_pk]
        if stale_inputs:
            DatasetInput.objects.filter(run_id__in=stale_inputs).delete()
        DatasetInput.objects.bulk_create(
            [
                DatasetInput(
                    run_id=change.row.pk,
                    name=d.name,
                    digest=clip(d.digest, 64),
                    source_type=clip(d.source_type, 64),
                    source=d.source,
                    context=clip(d.context, 64),
                    schema=d.schema,
                    profile=d.profile,
                )
                for change in changes
                if change.core_changed
                for d in change.remote.datasets
            ],
            ignore_conflicts=True,
        )


def _pages_by_experiment(
    gateway: MlflowGateway, experiment_id: str, page_size: int
) -> Iterator[list[RemoteRun]]:
    return gateway.iter_run_pages([experiment_id], page_size=page_size)


def _incremental_pages(
    p: SyncPass, experiment_ids: list[str], since_ms: int
) -> Iterator[list[RemoteRun]]:
    """Yield runs started or ended since ``since_ms``, and runs that may still change."""
    seen: set[str] = set()
    filters = [
        f"attributes.start_time >= {since_ms}",
        # Started earlier, ended since: the first filter has the rest already.
        f"attributes.end_time >= {since_ms} and attributes.start_time < {since_ms}",
        "attributes.status = 'RUNNING'",
    ]
    for filter_string in filters:
        for page in p.gateway.iter_run_pages(experiment_ids, filter_string):
            fresh = [run for run in page if run.run_id not in seen]
            seen.update(run.run_id for run in fresh)
            yield fresh

    # Runs the mirror still holds as running may have finished without an end time
    # inside the window (killed clients); read them back by id.
    running = [
        run_id
        for run_id in Run.objects.filter(
            source=p.source, status="RUNNING", deleted_observed_at__isnull=True
        ).values_list("run_id", flat=True)
        if run_id not in seen and "'" not in run_id
    ]
    for start in range(0, len(running), _IDS_PER_FILTER):
        chunk = ", ".join(f"'{run_id}'" for run_id in running[start : start + _IDS_PER_FILTER])
        yield from p.gateway.iter_run_pages(experiment_ids, f"attributes.run_id IN ({chunk})")


def sync_runs(p: SyncPass, experiments: dict[str, int]) -> None:
    """Mirror runs: all of them on a full pass, those past the watermark otherwise."""
    experiment_ids = sorted(experiments, key=lambda e: (len(e), e))
    watermark = p.source.runs_watermark_ms
    if p.full or watermark is None:
        readers = max(1, settings.SYNC_READERS)
        gateways = [MlflowGateway(p.source.tracking_uri) for _ in range(readers)]
        # Smaller pages when several readers share the server: each request stays
        # well inside the HTTP timeout even when the server's CPU is contended.
        page_size = max(1, settings.SYNC_PAGE_SIZE // readers)
        jobs = [
            partial(_pages_by_experiment, gateways[index % readers], experiment_id, page_size)
            for index, experiment_id in enumerate(experiment_ids)
        ]
        pages = parallel_pages(jobs, readers)
    else:
        pages = _incremental_pages(p, experiment_ids, watermark - WATERMARK_OVERLAP_MS)

    seen: set[str] = set()
    for page in pages:
        if page:
            seen |= apply_run_page(p, page, experiments)
        p.tick(len(page))

    if p.full:
        _tombstone_vanished_runs(p, seen)


def _tombstone_vanished_runs(p: SyncPass, seen: set[str]) -> None:
    live = Run.objects.filter(source=p.source, deleted_observed_at__isnull=True)
    vanished = [pk for run_id, pk in live.values_list("run_id", "pk") if run_id not in seen]
    if vanished:
        now = timezone.now()
        for start in range(0, len(vanished), 1000):
            Run.objects.filter(pk__in=vanished[start : start + 1000]).update(
                deleted_observed_at=now
            )
        p.counts.deleted += len(vanished)


# Logged models ---------------------------------------------------------------


def logged_model_digest(lm: RemoteLoggedModel) -> str:
    return digest(
        lm.experiment_id,
        lm.run_id,
        lm.name,
        lm.status,
        lm.artifact_location,
        lm.model_type,
        items(lm.params),
        items(lm.tags),
        lm.creation_time_ms,
        lm.last_updated_time_ms,
    )


def read_metadata(gateway: MlflowGateway, uri: str) -> ModelMetadata:
    """Read an MLmodel file; a model without one (still uploading) has no metadata."""
    if not uri:
        return ModelMetadata()
    try:
        return gateway.model_metadata(uri)
    except (MlflowNotFound, MlflowError) as exc:
        logger.warning("no MLmodel could be read at %s: %s", uri, exc)
        return ModelMetadata()


def fetch_metadata(gateway: MlflowGateway, uris: list[str]) -> dict[str, ModelMetadata]:
    """Read several MLmodel files on a few threads."""
    unique = sorted(set(uris))
    if not unique:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, settings.SYNC_READERS)) as pool:
        found = pool.map(partial(read_metadata, gateway), unique)
        return dict(zip(unique, found, strict=True))


def sync_logged_models(p: SyncPass, experiments: dict[str, int]) -> None:
    """Mirror MLflow 3 logged models; read MLmodel files only of new or changed ones."""
    watermark = p.source.runs_watermark_ms
    filter_string = ""
    if not p.full and watermark is not None:
        filter_string = f"last_updated_timestamp >= {watermark - WATERMARK_OVERLAP_MS}"
    remote = list(p.gateway.iter_logged_models(sorted(experiments), filter_string))
    if not remote and not p.full:
        return
    query = LoggedModel.objects.filter(source=p.source)
    if not p.full:
        query = query.filter(model_id__in=[lm.model_id for lm in remote])
    existing = {lm.model_id: lm for lm in query}

    now = timezone.now()
    hashes = {lm.model_id: logged_model_digest(lm) for lm in remote}
    changed = [
        lm
        for lm in remote
        if lm.model_id not in existing
        or existing[lm.model_id].content_hash != hashes[lm.model_id]
        or existing[lm.model_id].deleted_observed_at is not None
    ]
    p.counts.unchanged += len(remote) - len(changed)
    metadata = fetch_metadata(p.gateway, [lm.artifact_location for lm in changed])
    created: list[LoggedModel] = []
    updated: list[LoggedModel] = []
    for lm in changed:
        old = existing.get(lm.model_id)
        row = old or LoggedModel(source=p.source, model_id=lm.model_id)
        meta = metadata.get(lm.artifact_location, ModelMetadata())
        row.experiment_id = lm.experiment_id
        row.run_id = clip(lm.run_id, 64)
        row.name = lm.name
        row.status = clip(lm.status, 32)
        row.artifact_location = lm.artifact_location
        row.model_type = lm.model_type
        row.flavors = meta.flavors
        row.signature = meta.signature
        row.params = lm.params
        row.tags = lm.tags
        row.creation_time = to_datetime(lm.creation_time_ms)
        row.content_hash = hashes[lm.model_id]
        row.deleted_observed_at = None
        (updated if old else created).append(row)

    vanished: list[LoggedModel] = []
    if p.full:
        for old in existing.values():
            if old.model_id not in hashes and old.deleted_observed_at is None:
                old.deleted_observed_at = now
                vanished.append(old)

    if created or updated or vanished:
        with transaction.atomic():
            LoggedModel.objects.bulk_create(created)
            LoggedModel.objects.bulk_update(
                updated + vanished,
                [
                    "experiment_id",
                    "run_id",
                    "name",
                    "status",
                    "artifact_location",
                    "model_type",
                    "flavors",
                    "signature",
                    "params",
                    "tags",
                    "creation_time",
                    "content_hash",
                    "deleted_observed_at",
                ],
            )
    p.counts.created += len(created)
    p.counts.updated += len(updated)
    p.counts.deleted += len(vanished)


# Metric history --------------------------------------------------------------


def _read_history(gateway: MlflowGateway, run_id: str, keys: list[str]) -> list[RemoteMetric]:
    points: list[RemoteMetric] = []
    for key in keys:
        points.extend(gateway.metric_history(run_id, key))
    return points


def sync_metric_history(p: SyncPass) -> None:
    """Fetch every step of the metrics of runs behind registered versions, when moved."""
    linked = ModelVersion.objects.filter(
        registered_model__source=p.source, deleted_observed_at__isnull=True
    ).values("run_id")
    stale = list(
        Run.objects.filter(source=p.source, run_id__in=linked, deleted_observed_at__isnull=True)
        .exclude(history_hash=F("metrics_hash"))
        .values_list("pk", "run_id", "metrics_hash")
    )
    if not stale:
        return
    keys: dict[int, list[str]] = defaultdict(list)
    for run_pk, key in RunMetric.objects.filter(run_id__in=[s[0] for s in stale]).values_list(
        "run_id", "key"
    ):
        keys[run_pk].append(key)

    with ThreadPoolExecutor(max_workers=max(1, settings.SYNC_READERS)) as pool:
        histories = list(
            pool.map(lambda s: _read_history(p.gateway, s[1], sorted(keys[s[0]])), stale)
        )

    for (run_pk, _run_id, metrics_hash), points in zip(stale, histories, strict=True):
        rows = []
        for point in points:
            value, is_nan = _metric_value(point.value)
            rows.append(
                MetricHistory(
                    run_id=run_pk,
                    key=point.key,
                    step=point.step,
                    timestamp_ms=point.timestamp_ms,
                    value=value,
                    is_nan=is_nan,
                )
            )
        with transaction.atomic():
            MetricHistory.objects.filter(run_id=run_pk).delete()
            MetricHistory.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
            Run.objects.filter(pk=run_pk).update(history_hash=metrics_hash)
        p.lease.keep_alive()
