"""The model inventory and one model version with its lineage."""

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from governance import permissions
from governance.models import (
    LedgerEntry,
    LoggedModel,
    ModelVersion,
    RegisteredModel,
    TransitionRequest,
)
from registry_ui import access
from registry_ui.formatting import time_text
from registry_ui.links import optional_url, pk_url_maker
from registry_ui.signatures import signature_tables

UNAPPROVED_ACTION = "mlflow.unapproved_change"
# Stages nobody "holds": a version with no stage or an archived one serves nothing.
IDLE_STAGES = ("None", "Archived")


@dataclass(frozen=True)
class Holding:
    label: str
    number: str
    url: str


@dataclass(frozen=True)
class InventoryRow:
    """One model's line, its figures already spelled: the table has hundreds of cells."""

    model: RegisteredModel
    holdings: list[Holding]
    risk: str
    versions: str
    last_change: str
    open_requests: int
    unapproved: int
    timeline_url: str


def _ledger_of_model() -> Q:
    return Q(source_name=OuterRef("source__name"), model_name=OuterRef("name"))


def _count(queryset: Subquery) -> Coalesce:
    return Coalesce(queryset, 0, output_field=IntegerField())


@access.role_required(*access.READERS)
def model_inventory(request: HttpRequest) -> HttpResponse:
    ledger = LedgerEntry.objects.filter(_ledger_of_model())
    latest = ledger.order_by("-seq")
    unapproved = (
        ledger.filter(action=UNAPPROVED_ACTION)
        .order_by()
        .values("model_name")
        .annotate(total=Count("pk"))
        .values("total")
    )
    staged = (
        ModelVersion.objects.filter(deleted_observed_at__isnull=True)
        .exclude(stage__in=IDLE_STAGES)
        .only("pk", "version", "stage", "registered_model_id")
        .order_by("stage", "-version")
    )
    # Every figure is a correlated subquery rather than a JOIN with GROUP BY: joining
    # versions and requests multiplies rows and makes the ledger lookups run per row.
    versions = (
        ModelVersion.objects.filter(registered_model=OuterRef("pk"))
        .order_by()
        .values("registered_model")
        .annotate(total=Count("pk"))
        .values("total")
    )
    pending = (
        TransitionRequest.objects.filter(
            registered_model=OuterRef("pk"), status=TransitionRequest.Status.PENDING
        )
        .order_by()
        .values("registered_model")
        .annotate(total=Count("pk"))
        .values("total")
    )
    models = (
        RegisteredModel.objects.select_related("source")
        .annotate(
            version_count=_count(Subquery(versions)),
            open_requests=_count(Subquery(pending)),
            last_change_at=Subquery(latest.values("recorded_at")[:1]),
            last_change_action=Subquery(latest.values("action")[:1]),
            unapproved_count=_count(Subquery(unapproved)),
        )
        .prefetch_related(Prefetch("versions", queryset=staged, to_attr="staged_versions"))
        .order_by("name", "pk")
    )
    models_list = list(models)
    alias_numbers = {
        number
        for model in models_list
        for number in (_as_int(n) for n in (model.aliases or {}).values())
        if number is not None
    }
    alias_versions = {
        (v.registered_model_id, v.version): v
        for v in ModelVersion.objects.filter(
            registered_model__in=models_list, version__in=alias_numbers
        ).only("pk", "version", "registered_model_id")
    }
    version_url = pk_url_maker("registry_ui:model_version_detail")
    timeline_url = pk_url_maker("registry_ui:model_timeline")
    rows = []
    for model in models_list:
        holdings = [
            Holding(f"stage {v.stage}", str(v.version), version_url(v.pk))
            for v in model.staged_versions
        ]
        for alias, number in sorted((model.aliases or {}).items()):
            found = alias_versions.get((model.pk, _as_int(number) or 0))
            url = version_url(found.pk) if found else ""
            holdings.append(Holding(f"@{alias}", str(number), url))
        rows.append(
            InventoryRow(
                model,
                holdings,
                risk=str(model.get_risk_tier_display()),
                versions=str(model.version_count),
                last_change=time_text(model.last_change_at),
                open_requests=int(model.open_requests),
                unapproved=int(model.unapproved_count),
                timeline_url=timeline_url(model.pk),
            )
        )
    return render(request, "registry_ui/model_inventory.html", {"rows": rows})


def _as_int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


@access.role_required(*access.READERS)
def model_version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(
        ModelVersion.objects.select_related("registered_model__source", "training_run__experiment"),
        pk=pk,
    )
    model = version.registered_model
    run = version.training_run
    logged_model = (
        LoggedModel.objects.filter(source=model.source, model_id=version.logged_model_id).first()
        if version.logged_model_id
        else None
    )
    signature = version.signature or (logged_model.signature if logged_model else None)
    aliases = sorted(a for a, n in (model.aliases or {}).items() if str(n) == str(version.version))
    may_request = bool(permissions.can_request(request.user, version))

    context = {
        "version": version,
        "model": model,
        "run": run,
        "experiment": run.experiment if run else None,
        "datasets": list(run.dataset_inputs.order_by("name", "context")) if run else [],
        "metrics": list(run.metrics.order_by("key")) if run else [],
        "logged_model": logged_model,
        "signature": signature_tables(signature),
        "aliases": aliases,
        "open_requests": list(
            version.requests.filter(status=TransitionRequest.Status.PENDING).select_related(
                "requested_by"
            )
        ),
        "request_url": optional_url("registry_ui:request_transition", version.pk)
        if may_request
        else "",
        "timeline_url": optional_url("registry_ui:version_timeline", version.pk),
        "other_versions": list(
            model.versions.exclude(pk=version.pk)
            .only("pk", "version", "stage", "registered_model_id")
            .order_by("-version")[:50]
        ),
    }
    return render(request, "registry_ui/model_version_detail.html", context)
