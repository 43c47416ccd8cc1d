"""The reports of the pages, as JSON: the same queries from :mod:`governance.reports`."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from governance import reports
from governance.api import serializers as api
from governance.api.pagination import ApiPagination
from governance.api.views.base import GovernedApiView
from governance.models import ModelVersion
from governance.unapproved import list_unapproved_changes


def _aliases_of(version: ModelVersion) -> list[str]:
    aliases = version.registered_model.aliases or {}
    return sorted(a for a, n in aliases.items() if str(n) == str(version.version))


class PaginatedReport(GovernedApiView):
    """A report answered page by page (the schema documents the pages)."""

    pagination_class = ApiPagination


class DatasetModelsReport(PaginatedReport):
    """Models trained on a dataset, found by its name or its digest."""

    @extend_schema(
        parameters=[api.DatasetModelsQuerySerializer],
        responses=api.DatasetModelRowSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        query = api.DatasetModelsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        term = query.validated_data["dataset"]

        paginator = self.pagination_class()
        page = paginator.paginate_queryset(reports.versions_trained_on(term), request, self)
        rows: list[dict[str, Any]] = [
            {
                "version": version,
                "aliases": _aliases_of(version),
                "datasets": reports.matching_datasets(version, term),
            }
            for version in page or []
        ]
        return paginator.get_paginated_response(api.DatasetModelRowSerializer(rows, many=True).data)


class ProductionDataReport(PaginatedReport):
    """Runs that used production data, and the versions registered from them."""

    @extend_schema(responses=api.ProductionDataRowSerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(reports.runs_on_production_data(), request, self)
        rows = [
            {
                "run": run,
                "reasons": reports.production_reasons(run),
                "model_versions": run.model_versions.select_related("registered_model").order_by(
                    "version"
                ),
            }
            for run in page or []
        ]
        return paginator.get_paginated_response(
            api.ProductionDataRowSerializer(rows, many=True).data
        )


class HoldersReport(PaginatedReport):
    """What held a stage or alias (Production by default) on a date, across all models."""

    @extend_schema(
        parameters=[api.HoldersAcrossModelsQuerySerializer],
        responses=api.ModelHoldingSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        query = api.HoldersAcrossModelsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data

        held = reports.holders_across_models(values["at"], values["target_kind"], values["target"])
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(held, request, self)
        return paginator.get_paginated_response(api.ModelHoldingSerializer(page, many=True).data)


class UnapprovedChangesReport(PaginatedReport):
    """Stage and alias changes seen in MLflow that no applied approval explains."""

    @extend_schema(
        parameters=[api.UnapprovedQuerySerializer],
        responses=api.LedgerEntrySerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        query = api.UnapprovedQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data

        entries = list_unapproved_changes(values.get("source", ""), values.get("model", ""))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(entries, request, self)
        return paginator.get_paginated_response(api.LedgerEntrySerializer(page, many=True).data)
