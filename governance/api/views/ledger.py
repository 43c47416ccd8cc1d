"""Read the ledger: the timeline of a model or version, and whether the chain is intact."""

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from governance import ledger_verify
from governance.api import serializers as api
from governance.api.filters import LedgerEntryFilter
from governance.api.pagination import ApiPagination
from governance.api.permissions import IsAuditor
from governance.api.views.base import GovernedApiView
from governance.models import LedgerEntry, ModelVersion, RegisteredModel


def model_timeline(model: RegisteredModel) -> QuerySet[LedgerEntry]:
    """Return every ledger entry about ``model``, oldest first."""
    return LedgerEntry.objects.filter(
        source_name=model.source.name, model_name=model.name
    ).order_by("seq")


def version_timeline(version: ModelVersion) -> QuerySet[LedgerEntry]:
    """Return every ledger entry about ``version``, oldest first."""
    return model_timeline(version.registered_model).filter(version=version.version)


def timeline_response(request: Request, view: APIView, entries: QuerySet[LedgerEntry]) -> Response:
    """Filter (``LedgerEntryFilter``) and paginate ``entries`` for a timeline action."""
    narrowed = LedgerEntryFilter(request.query_params, queryset=entries, request=request)
    if not narrowed.is_valid():
        raise ValidationError(narrowed.errors)
    paginator = ApiPagination()
    page = paginator.paginate_queryset(narrowed.qs, request, view=view)
    return paginator.get_paginated_response(api.LedgerEntrySerializer(page, many=True).data)


TIMELINE_PARAMETERS = [
    OpenApiParameter("action", str, description="Only entries of this action."),
    OpenApiParameter("target", str, description="Only entries about this stage or alias."),
    OpenApiParameter("precision", str, enum=LedgerEntry.Precision.values),
    OpenApiParameter("since", OpenApiTypes.DATETIME, description="Recorded at or after."),
    OpenApiParameter("until", OpenApiTypes.DATETIME, description="Recorded before."),
]
timeline_schema = extend_schema(
    parameters=TIMELINE_PARAMETERS, responses=api.LedgerEntrySerializer(many=True)
)


class VerificationThrottle(SimpleRateThrottle):
    """Verification reads the whole ledger; a few runs a minute per user are plenty."""

    scope = "ledger_verification"
    rate = "6/minute"

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class LedgerVerificationView(GovernedApiView):
    """Verify the whole chain and its signed checkpoints now, as ``verify_ledger`` does."""

    permission_classes = [IsAuditor]
    throttle_classes = [*GovernedApiView.throttle_classes, VerificationThrottle]

    @extend_schema(responses=api.LedgerVerificationSerializer)
    def get(self, request: Request) -> Response:
        report = ledger_verify.verify_ledger()
        problem = report.problem
        body = {
            "intact": report.intact,
            "entries": report.entries,
            "last_seq": report.last_seq,
            "last_hash": report.last_hash,
            "checkpoints": report.checkpoints,
            "problem": {"seq": problem.seq, "reason": problem.reason} if problem else None,
            "elapsed_ms": round(report.elapsed_seconds * 1000),
            "verified_at": timezone.now(),
        }
        return Response(api.LedgerVerificationSerializer(body).data)
