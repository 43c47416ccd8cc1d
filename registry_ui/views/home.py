"""The home page: what each role needs to look at first."""

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from governance.models import (
    Decision,
    LedgerEntry,
    MlflowSource,
    ModelVersion,
    RegisteredModel,
    TransitionRequest,
)
from registry_ui import access
from registry_ui.links import optional_url

UNAPPROVED_ACTION = "mlflow.unapproved_change"
LIST_LIMIT = 20


@dataclass(frozen=True)
class RequestRow:
    request: TransitionRequest
    url: str


@dataclass(frozen=True)
class AliasHolder:
    model: RegisteredModel
    alias: str
    version: str


def _request_rows(requests: list[TransitionRequest]) -> list[RequestRow]:
    return [RequestRow(r, optional_url("registry_ui:request_detail", r.pk)) for r in requests]


def _alias_holders() -> list[AliasHolder]:
    governed = set(settings.GOVERNED_ALIASES)
    holders = []
    for model in RegisteredModel.objects.filter(deleted_observed_at__isnull=True).only(
        "pk", "name", "aliases", "risk_tier"
    ):
        for alias, version in sorted(model.aliases.items()):
            if alias in governed:
                holders.append(AliasHolder(model, alias, str(version)))
    return holders


@access.role_required(*access.READERS)
def home(request: HttpRequest) -> HttpResponse:
    roles = access.user_roles(request.user)
    context: dict[str, object] = {
        "roles": roles,
        "sources": list(MlflowSource.objects.all()),
        "unapproved": list(
            LedgerEntry.objects.filter(action=UNAPPROVED_ACTION)
            .order_by("-seq")
            .only("seq", "recorded_at", "model_name", "version", "target", "details")[:LIST_LIMIT]
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
        context["production"] = list(
            ModelVersion.objects.filter(stage="Production", deleted_observed_at__isnull=True)
            .select_related("registered_model")
            .order_by("registered_model__name")
        )
        context["alias_holders"] = _alias_holders()
        context["recent_decisions"] = list(
            Decision.objects.select_related(
                "request__registered_model", "request__model_version"
            ).order_by("-signed_at")[:LIST_LIMIT]
        )

    return render(request, "registry_ui/home.html", context)
