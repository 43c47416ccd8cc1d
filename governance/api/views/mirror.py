"""Read the MLflow mirror: sources and their sync status, experiments, runs, models."""

from django.db.models import Prefetch, QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from governance import point_in_time, workflow
from governance.api import filters
from governance.api import serializers as api
from governance.api.pagination import ApiPagination
from governance.api.views.base import GovernedReadOnlyViewSet, signed_in_user
from governance.api.views.ledger import (
    model_timeline,
    timeline_response,
    timeline_schema,
    version_timeline,
)
from governance.models import (
    Experiment,
    MetricHistory,
    MlflowSource,
    ModelVersion,
    RegisteredModel,
    Run,
)


class SourceViewSet(GovernedReadOnlyViewSet[MlflowSource]):
    """MLflow sources with the state of their sync."""

    queryset = MlflowSource.objects.order_by("name")
    filterset_class = filters.SourceFilter

    def get_serializer_class(self) -> type[serializers.BaseSerializer[MlflowSource]]:
        if self.action == "retrieve":
            return api.SourceDetailSerializer
        return api.SourceSerializer


class ExperimentViewSet(GovernedReadOnlyViewSet[Experiment]):
    """Mirrored MLflow experiments."""

    queryset = Experiment.objects.select_related("source").order_by("name", "pk")
    serializer_class = api.ExperimentSerializer
    filterset_class = filters.ExperimentFilter


class RunViewSet(GovernedReadOnlyViewSet[Run]):
    """Mirrored MLflow runs, filterable, ordered by any metric or param."""

    filterset_class = filters.RunFilter
    filter_backends = [DjangoFilterBackend, filters.RunOrdering]

    def get_queryset(self) -> QuerySet[Run]:
        runs = Run.objects.select_related("source", "experiment")
        if self.action == "retrieve":
            return runs.prefetch_related(
                "metrics",
                "dataset_inputs",
                Prefetch(
                    "model_versions",
                    queryset=ModelVersion.objects.select_related("registered_model"),
                ),
            )
        return runs.prefetch_related("metrics")

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Run]]:
        if self.action == "retrieve":
            return api.RunDetailSerializer
        if self.action == "metric_history":
            return api.MetricPointSerializer  # type: ignore[return-value]
        return api.RunSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("key", str, description="Only this metric; all metrics if absent.")
        ],
        responses=api.MetricPointSerializer(many=True),
    )
    @action(detail=True, url_path="metric-history", filter_backends=[])
    def metric_history(self, request: Request, pk: str | None = None) -> Response:
        """Every logged value of the run's metrics, by key, step and time."""
        run = self.get_object()
        points = MetricHistory.objects.filter(run=run).order_by("key", "step", "timestamp_ms")
        key = request.query_params.get("key")
        if key is not None:
            if not key or len(key) > filters.MAX_KEY_LENGTH:
                raise ValidationError({"key": ["Give a metric key of 1 to 250 characters."]})
            points = points.filter(key=key)
        paginator = ApiPagination()
        page = paginator.paginate_queryset(points, request, view=self)
        return paginator.get_paginated_response(api.MetricPointSerializer(page, many=True).data)


class RegisteredModelViewSet(GovernedReadOnlyViewSet[RegisteredModel]):
    """Registered models with their risk tier and who holds each stage and alias."""

    queryset = (
        RegisteredModel.objects.select_related("source")
        .prefetch_related("versions")
        .order_by("name", "pk")
    )
    serializer_class = api.RegisteredModelSerializer
    filterset_class = filters.RegisteredModelFilter

    @extend_schema(request=api.RiskTierSerializer, responses=api.RegisteredModelSerializer)
    @action(detail=True, methods=["post"], url_path="risk-tier", filter_backends=[])
    def risk_tier(self, request: Request, pk: str | None = None) -> Response:
        """Set the model's risk tier (governance officers); open requests follow it."""
        model = self.get_object()
        form = api.RiskTierSerializer(data=request.data)
        form.is_valid(raise_exception=True)

        workflow.set_risk_tier(
            signed_in_user(request),
            model.pk,
            form.validated_data["risk_tier"],
            form.validated_data["reason"],
        )
        return Response(api.RegisteredModelSerializer(self.get_queryset().get(pk=model.pk)).data)

    @extend_schema(parameters=[api.HoldersQuerySerializer], responses=api.HoldersSerializer)
    @action(detail=True, filter_backends=[])
    def holders(self, request: Request, pk: str | None = None) -> Response:
        """Which version held each stage and alias (or one of them) at a moment."""
        model = self.get_object()
        query = api.HoldersQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        at = query.validated_data["at"]

        source = model.source.name
        if "target" in query.validated_data:
            one = point_in_time.holder_at(
                source,
                model.name,
                query.validated_data["target_kind"],
                query.validated_data["target"],
                at,
            )
            holdings = [one] if one is not None else []
        else:
            holdings = point_in_time.holders_at(source, model.name, at)
        body = {"model": model.name, "source": source, "at": at, "holdings": holdings}
        return Response(api.HoldersSerializer(body).data)

    @timeline_schema
    @action(detail=True, filter_backends=[])
    def timeline(self, request: Request, pk: str | None = None) -> Response:
        """The model's chain of custody: every ledger entry about it, oldest first."""
        return timeline_response(request, self, model_timeline(self.get_object()))


class ModelVersionViewSet(GovernedReadOnlyViewSet[ModelVersion]):
    """Registered model versions; the detail has lineage, signature and metrics."""

    filterset_class = filters.ModelVersionFilter

    def get_queryset(self) -> QuerySet[ModelVersion]:
        versions = ModelVersion.objects.select_related(
            "registered_model", "registered_model__source"
        ).order_by("registered_model__name", "-version", "pk")
        if self.action == "retrieve":
            return versions.select_related("training_run", "training_run__experiment")
        return versions

    def get_serializer_class(self) -> type[serializers.BaseSerializer[ModelVersion]]:
        if self.action == "retrieve":
            return api.ModelVersionDetailSerializer
        return api.ModelVersionSerializer

    @timeline_schema
    @action(detail=True, filter_backends=[])
    def timeline(self, request: Request, pk: str | None = None) -> Response:
        """The version's chain of custody: every ledger entry about it, oldest first."""
        return timeline_response(request, self, version_timeline(self.get_object()))
