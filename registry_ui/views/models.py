"""The model inventory and one model version with its lineage."""

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from html import escape
from typing import Any
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.safestring import SafeString, mark_safe

from governance import permissions
from governance.models import (
    LedgerEntry,
    LoggedModel,
    ModelVersion,
    RegisteredModel,
    TransitionRequest,
)
from governance.unapproved import UNAPPROVED_ACTION
from registry_ui import access
from registry_ui.formatting import time_text
from registry_ui.links import optional_url, pk_url_maker
from registry_ui.signatures import signature_tables

# Stages nobody "holds": a version with no stage or an archived one serves nothing.
IDLE_STAGES = ("None", "Archived")
RISK_TONES = {"high": " bad", "medium": " warn"}


@dataclass(frozen=True)
class Holding:
    label: str
    number: str
    url: str

    def html(self) -> str:
        number = f"version {escape(self.number)}"
        if self.url:
            number = f'<a href="{escape(self.url)}">{number}</a>'
        return f"<li>{escape(self.label)}: {number}</li>"


@dataclass(frozen=True)
class InventoryRow:
    """One model's line, every cell already spelled: the table has a thousand cells."""

    name: str
    source: str
    gone: bool
    risk_tier: str
    risk: str
    holdings: list[Holding]
    versions: str
    last_change: str
    last_change_action: str
    open_requests: int
    unapproved: int
    timeline_url: str

    def html(self) -> SafeString:
        """Return the row's markup, escaped as the template would escape it.

        Built here rather than in the template: at 100 models the template's two
        thousand variable nodes took 12 ms or more, most of the page's time. The
        standard library's ``html.escape`` is what Django's ``escape`` calls.
        """
        name = escape(self.name)
        gone = ' <span class="badge warn">gone from MLflow</span>' if self.gone else ""
        tone = RISK_TONES.get(self.risk_tier, "")
        if self.holdings:
            holdings = '<ul class="plain">' + "".join(h.html() for h in self.holdings) + "</ul>"
        else:
            holdings = '<span class="muted">none</span>'
        if self.last_change:
            last_change = (
                f"{escape(self.last_change)}<br>"
                f'<span class="muted">{escape(self.last_change_action)}</span>'
            )
        else:
            last_change = '<span class="muted">nothing recorded</span>'
        return mark_safe(  # noqa: S308 - every value above is escaped
            "\n    <tr>\n"
            f'      <th scope="row">{name}{gone}</th>\n'
            f"      <td>{escape(self.source)}</td>\n"
            f'      <td><span class="badge{tone}">{escape(self.risk)}</span></td>\n'
            f"      <td>{holdings}</td>\n"
            f'      <td class="num">{escape(self.versions)}</td>\n'
            f'      <td>{last_change}<br><a href="{escape(self.timeline_url)}">Chain of custody'
            f'<span class="sr-only"> of {name}</span></a></td>\n'
            f'      <td class="num">{_badge(self.open_requests, "warn")}</td>\n'
            f'      <td class="num">{self._unapproved_html(name)}</td>\n'
            "    </tr>"
        )

    def _unapproved_html(self, name: str) -> str:
        if not self.unapproved:
            return "0"
        # The report matches names by substring; this model's own name finds it.
        url = _unapproved_report_url() + "?" + urlencode({"model": self.name})
        return (
            f'<a href="{escape(url)}">{_badge(self.unapproved, "bad")}'
            f'<span class="sr-only"> unapproved changes of {name}</span></a>'
        )


@functools.cache
def _unapproved_report_url() -> str:
    return reverse("registry_ui:report_unapproved_changes")


def _badge(count: int, tone: str) -> str:
    return f'<span class="badge {tone}">{count:d}</span>' if count else "0"


@dataclass(frozen=True)
class OtherVersion:
    number: int
    stage: str
    url: str


def _ledger_of_model() -> Q:
    return Q(source_name=OuterRef("source__name"), model_name=OuterRef("name"))


def _count(queryset: Subquery) -> Coalesce:
    return Coalesce(queryset, 0, output_field=IntegerField())


def _figures_queryset() -> QuerySet[Any, Any]:
    """Every model with its figures, in one query.

    Every figure is a correlated subquery rather than a JOIN with GROUP BY: joining
    versions and requests multiplies rows and makes the ledger lookups run per row.
    Plain values rather than model instances: building a few hundred instances and
    their JSON fields cost more than the query.
    """
    ledger = LedgerEntry.objects.filter(_ledger_of_model())
    latest = ledger.order_by("-seq")
    unapproved = (
        ledger.filter(action=UNAPPROVED_ACTION)
        .order_by()
        .values("model_name")
        .annotate(total=Count("pk"))
        .values("total")
    )
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
    return (
        RegisteredModel.objects.annotate(
            version_count=_count(Subquery(versions)),
            open_requests=_count(Subquery(pending)),
            last_change_at=Subquery(latest.values("recorded_at")[:1]),
            last_change_action=Subquery(latest.values("action")[:1]),
            unapproved_count=_count(Subquery(unapproved)),
        )
        .order_by("name", "pk")
        .values(
            "pk",
            "name",
            "source__name",
            "risk_tier",
            "deleted_observed_at",
            "aliases",
            "version_count",
            "open_requests",
            "last_change_at",
            "last_change_action",
            "unapproved_count",
        )
    )


@functools.cache
def _figures_sql(vendor: str) -> tuple[str, tuple[Any, ...]]:
    """The figures query as SQL, built once per process and database vendor.

    It has no parameter that changes between requests, and building and compiling
    it through the ORM took 2.5 ms of the page's 15 at 100 models.
    """
    sql, params = _figures_queryset().query.sql_with_params()
    return sql, tuple(params)


def _inventory_figures() -> list[dict[str, Any]]:
    """Return one dict per model with its figures."""
    sql, params = _figures_sql(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        # values() names every column after its key ("pk", "source__name", ...).
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        # The ORM's converters are skipped: JSON may arrive as text, and on SQLite
        # times arrive as text in UTC.
        if isinstance(row["aliases"], str):
            row["aliases"] = json.loads(row["aliases"])
        for name in ("deleted_observed_at", "last_change_at"):
            if isinstance(row[name], str):
                row[name] = parse_datetime(row[name])
            if row[name] is not None and row[name].tzinfo is None:
                row[name] = row[name].replace(tzinfo=UTC)
    return rows


def _holdings(models: Sequence[Mapping[str, Any]]) -> dict[int, list[Holding]]:
    """Return each model's stage holders, then its aliases by name, in two queries."""
    version_url = pk_url_maker("registry_ui:model_version_detail")
    holdings: dict[int, list[Holding]] = {model["pk"]: [] for model in models}
    staged = (
        ModelVersion.objects.filter(deleted_observed_at__isnull=True)
        .exclude(stage__in=IDLE_STAGES)
        .order_by("stage", "-version")
        .values_list("registered_model_id", "stage", "version", "pk")
    )
    for model_pk, stage, number, pk in staged:
        if model_pk in holdings:
            holdings[model_pk].append(Holding(f"stage {stage}", str(number), version_url(pk)))

    alias_numbers = {
        number
        for model in models
        for number in (_as_int(n) for n in (model["aliases"] or {}).values())
        if number is not None
    }
    aliased = (
        ModelVersion.objects.filter(version__in=alias_numbers)
        # No order: the default one joins the models table to sort by model name.
        .order_by()
        .values_list("registered_model_id", "version", "pk")
    )
    alias_versions = {(model_pk, number): pk for model_pk, number, pk in aliased}
    for model in models:
        for alias, number in sorted((model["aliases"] or {}).items()):
            found = alias_versions.get((model["pk"], _as_int(number) or 0))
            url = version_url(found) if found else ""
            holdings[model["pk"]].append(Holding(f"@{alias}", str(number), url))
    return holdings


@access.role_required(*access.READERS)
def model_inventory(request: HttpRequest) -> HttpResponse:
    models = _inventory_figures()
    holdings = _holdings(models)
    risk_labels = dict(RegisteredModel.RiskTier.choices)
    timeline_url = pk_url_maker("registry_ui:model_timeline")
    rows = [
        InventoryRow(
            name=model["name"],
            source=model["source__name"],
            gone=model["deleted_observed_at"] is not None,
            risk_tier=model["risk_tier"],
            risk=str(risk_labels.get(model["risk_tier"], model["risk_tier"])),
            holdings=holdings[model["pk"]],
            versions=str(model["version_count"]),
            last_change=time_text(model["last_change_at"]),
            last_change_action=model["last_change_action"] or "",
            open_requests=int(model["open_requests"]),
            unapproved=int(model["unapproved_count"]),
            timeline_url=timeline_url(model["pk"]),
        )
        for model in models
    ]
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
    version_url = pk_url_maker("registry_ui:model_version_detail")

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
        "other_versions": [
            OtherVersion(number, stage, version_url(pk))
            for pk, number, stage in model.versions.exclude(pk=version.pk)
            .order_by("-version")
            .values_list("pk", "version", "stage")[:50]
        ],
    }
    return render(request, "registry_ui/model_version_detail.html", context)
