"""The home page: what each role needs to look at first."""

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from governance.models import (
    Decision,
    MlflowSource,
    ModelVersion,
    RegisteredModel,
    TransitionRequest,
)
from governance.unapproved import list_unapproved_changes
from registry_ui import access
from registry_ui.links import optional_url, pk_url_maker

LIST_LIMIT = 20


@dataclass(frozen=True)
class RequestRow:
    request: TransitionRequest
    url: str


@dataclass(frozen=True)
class HeldRow:
    """A version in Production or holding a governed alias, its cells already spelled."""

    model_name: str
    risk: str
    version: str
    url: str = ""
    alias: str = ""


def _request_rows(requests: list[TransitionRequest]) -> list[RequestRow]:
    return [RequestRow(r, optional_url("registry_ui:request_detail", r.pk)) for r in requests]


def _risk_label(tier: str) -> str:
    return str(dict(RegisteredModel.RiskTier.choices).get(tier, tier))


def _production_rows() -> list[HeldRow]:
    # Values and a prebuilt link rather than instances and a reversed URL per row: an
    # executive's home lists every model in production.
    version_url = pk_url_maker("registry_ui:model_version_detail")
    return [
        HeldRow(name, _risk_label(tier), str(number), url=version_url(pk))
        for pk, number, name, tier in ModelVersion.objects.filter(
            stage="Production", deleted_observed_at__isnull=True
        )
        .order_by("registered_model__name")
        .values_list("pk", "version", "registered_model__name", "registered_model__risk_tier")
    ]


def _alias_holders() -> list[HeldRow]:
    governed = set(settings.GOVERNED_ALIASES)
    holders = []
    for name, aliases, tier in RegisteredModel.objects.filter(
        deleted_observed_at__isnull=True
    ).values_list("name", "aliases", "risk_tier"):
        for alias, version in sorted(aliases.items()):
            if alias in governed:
                holders.append(HeldRow(name, _risk_label(tier), str(version), alias=alias))
    return holders


@access.role_required(*access.READERS)
def home(request: HttpRequest) -> HttpResponse:
    roles = access.user_roles(request.user)
    context: dict[str, object] = {
        "roles": roles,
        "sources": list(MlflowSource.objects.all()),
        "unapproved": list(
            list_unapproved_changes().only(
                "seq", "recorded_at", "model_name", "version", "target", "details"
            )[:LIST_LIMIT]
        ),
    }

    if access.GOVERNANCE_OFFICER in roles:
        pending = (
            TransitionRequest.objects.filter(status=TransitionRequest.Status.PENDING)
            .exclude(requested_by_id=request.user.pk)
            .select_related("registered_model", "model_version", "requested_by")
            .order_by("created_at")
        )
        context["pending"] = _request_rows(list(pending[:LIST_LIMIT]))

    if access.DATA_SCIENTIST in roles:
        mine = TransitionRequest.objects.filter(requested_by_id=request.user.pk).select_related(
            "registered_model", "model_version"
        )
        context["my_requests"] = _request_rows(list(mine[:LIST_LIMIT]))

    if access.EXECUTIVE in roles:
        context["production"] = _production_rows()
        context["alias_holders"] = _alias_holders()
        context["recent_decisions"] = list(
            Decision.objects.select_related(
                "request__registered_model", "request__model_version"
            ).order_by("-signed_at")[:LIST_LIMIT]
        )

    return render(request, "registry_ui/home.html", context)
