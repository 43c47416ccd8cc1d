"""Reports for auditors: lineage from data to models, and use of production data.

The queries live in ``governance.reports``, shared with the API; these views page
them as HTML and stream them as CSV.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

from governance import reports, unapproved
from governance.models import DatasetInput, LedgerEntry, ModelVersion, RegisteredModel, Run
from registry_ui import access
from registry_ui.csv_export import csv_response
from registry_ui.formatting import time_text
from registry_ui.ledger_text import EntryRow, action_words, entry_row
from registry_ui.workflow_forms import UnapprovedChangesForm

MAX_QUERY_LENGTH = 500
PAGE_ROW_LIMIT = 1000


@access.role_required(*access.READERS)
def report_index(request: HttpRequest) -> HttpResponse:
    return render(
        request, "registry_ui/report_index.html", {"production_tag": settings.PRODUCTION_DATA_TAG}
    )


def _wants_csv(request: HttpRequest) -> bool | None:
    """Say whether CSV was asked for; None when the format is not one offered."""
    chosen = request.GET.get("format", "html")
    if chosen not in {"html", "csv"}:
        return None
    return chosen == "csv"


@dataclass(frozen=True)
class DatasetModelRow:
    version: ModelVersion
    dataset: DatasetInput


DATASET_HEADER = (
    "model",
    "version",
    "stage",
    "aliases",
    "risk tier",
    "training run id",
    "run name",
    "dataset name",
    "dataset digest",
    "dataset context",
)


def _dataset_rows(term: str) -> Iterator[DatasetModelRow]:
    for version in reports.versions_trained_on(term).iterator(chunk_size=500):
        for dataset in reports.matching_datasets(version, term):
            yield DatasetModelRow(version, dataset)


def _aliases_of(version: ModelVersion) -> str:
    aliases = version.registered_model.aliases or {}
    return " ".join(f"@{a}" for a, n in sorted(aliases.items()) if str(n) == str(version.version))


@access.role_required(*access.READERS)
def report_dataset_models(request: HttpRequest) -> HttpResponseBase:
    term = request.GET.get("dataset", "").strip()
    wants_csv = _wants_csv(request)
    context: dict[str, object] = {"term": term}
    if wants_csv is None or len(term) > MAX_QUERY_LENGTH:
        context["error"] = (
            "Choose HTML or CSV."
            if wants_csv is None
            else f"A dataset name or digest has at most {MAX_QUERY_LENGTH} characters."
        )
        return render(request, "registry_ui/report_dataset_models.html", context, status=400)
    if not term:
        return render(request, "registry_ui/report_dataset_models.html", context)

    if wants_csv:
        return csv_response(
            "models-trained-on-dataset.csv",
            DATASET_HEADER,
            (
                (
                    row.version.registered_model.name,
                    row.version.version,
                    row.version.stage,
                    _aliases_of(row.version),
                    row.version.registered_model.risk_tier,
                    row.version.run_id,
                    row.version.training_run.name if row.version.training_run else "",
                    row.dataset.name,
                    row.dataset.digest,
                    row.dataset.context,
                )
                for row in _dataset_rows(term)
            ),
        )
    rows = []
    for row in _dataset_rows(term):
        rows.append((row, _aliases_of(row.version)))
        if len(rows) > PAGE_ROW_LIMIT:
            break
    context.update(
        {
            "rows": rows[:PAGE_ROW_LIMIT],
            "truncated": len(rows) > PAGE_ROW_LIMIT,
            "limit": PAGE_ROW_LIMIT,
        }
    )
    return render(request, "registry_ui/report_dataset_models.html", context)


@dataclass(frozen=True)
class ProductionDataRow:
    run: Run
    reasons: list[str]
    versions: list[ModelVersion]


PRODUCTION_HEADER = (
    "experiment",
    "run id",
    "run name",
    "user",
    "started (UTC)",
    "why it counts",
    "registered versions",
)


def _production_rows() -> Iterator[ProductionDataRow]:
    for run in reports.runs_on_production_data().iterator(chunk_size=500):
        versions = list(run.model_versions.select_related("registered_model").order_by("version"))
        yield ProductionDataRow(run, reports.production_reasons(run), versions)


@access.role_required(*access.READERS)
def report_production_data(request: HttpRequest) -> HttpResponseBase:
    wants_csv = _wants_csv(request)
    context: dict[str, object] = {"production_tag": settings.PRODUCTION_DATA_TAG}
    if wants_csv is None:
        context["error"] = "Choose HTML or CSV."
        return render(request, "registry_ui/report_production_data.html", context, status=400)

    if wants_csv:
        return csv_response(
            "runs-on-production-data.csv",
            PRODUCTION_HEADER,
            (
                (
                    row.run.experiment.name,
                    row.run.run_id,
                    row.run.name,
                    row.run.user_id,
                    time_text(row.run.start_time),
                    "; ".join(row.reasons),
                    " ".join(f"{v.registered_model.name} v{v.version}" for v in row.versions),
                )
                for row in _production_rows()
            ),
        )
    rows = []
    for row in _production_rows():
        rows.append(row)
        if len(rows) > PAGE_ROW_LIMIT:
            break
    context.update(
        {
            "rows": rows[:PAGE_ROW_LIMIT],
            "truncated": len(rows) > PAGE_ROW_LIMIT,
            "limit": PAGE_ROW_LIMIT,
        }
    )
    return render(request, "registry_ui/report_production_data.html", context)


UNAPPROVED_HEADER = (
    "ledger seq",
    "recorded (UTC)",
    "source",
    "model",
    "version",
    "stage or alias",
    "seen as",
    "before",
    "after",
    "when it happened",
)


@dataclass(frozen=True)
class UnapprovedRow:
    entry: EntryRow
    seen_as: str
    model_pk: int | None


def _seen_as(entry: LedgerEntry) -> str:
    return action_words(str((entry.details or {}).get("observed_action", "")))


def _unapproved_rows(entries: list[LedgerEntry]) -> list[UnapprovedRow]:
    """Return the page's rows, each linked to its model's timeline when it is mirrored."""
    names = {(entry.source_name, entry.model_name) for entry in entries}
    models = {
        (source, name): pk
        for pk, source, name in RegisteredModel.objects.filter(
            source__name__in={source for source, _ in names},
            name__in={name for _, name in names},
        ).values_list("pk", "source__name", "name")
    }
    return [
        UnapprovedRow(
            entry_row(entry), _seen_as(entry), models.get((entry.source_name, entry.model_name))
        )
        for entry in entries
    ]


def _unapproved_csv_rows(entries: QuerySet[LedgerEntry]) -> Iterator[tuple[object, ...]]:
    for entry in entries.iterator(chunk_size=500):
        row = entry_row(entry)
        yield (
            entry.seq,
            time_text(entry.recorded_at),
            entry.source_name,
            entry.model_name,
            entry.version,
            entry.target,
            _seen_as(entry),
            row.before,
            row.after,
            row.precision,
        )


@access.role_required(*access.READERS)
def report_unapproved_changes(request: HttpRequest) -> HttpResponseBase:
    form = UnapprovedChangesForm(request.GET or None)
    wants_csv = _wants_csv(request)
    context: dict[str, object] = {"form": form, "rows": None}
    if wants_csv is None or (form.is_bound and not form.is_valid()):
        context["error"] = "Choose HTML or CSV." if wants_csv is None else ""
        return render(request, "registry_ui/report_unapproved_changes.html", context, status=400)

    entries = unapproved.list_unapproved_changes()
    if form.is_bound:
        since, until = form.bounds()
        if since:
            entries = entries.filter(recorded_at__gte=since)
        if until:
            entries = entries.filter(recorded_at__lt=until)
        if form.cleaned_data["model"]:
            entries = entries.filter(model_name__icontains=form.cleaned_data["model"])

    if wants_csv:
        return csv_response(
            "unapproved-changes.csv",
            UNAPPROVED_HEADER,
            _unapproved_csv_rows(entries),
        )
    page = list(entries[: PAGE_ROW_LIMIT + 1])
    query = request.GET.copy()
    query["format"] = "csv"
    context.update(
        {
            "rows": _unapproved_rows(page[:PAGE_ROW_LIMIT]),
            "truncated": len(page) > PAGE_ROW_LIMIT,
            "limit": PAGE_ROW_LIMIT,
            "csv_query": query.urlencode(),
        }
    )
    return render(request, "registry_ui/report_unapproved_changes.html", context)
