"""URLs of the REST API: version 1 under ``/api/v1/``, the schema and its docs."""

from django.urls import include, path, re_path
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from governance.api.errors import not_found
from governance.api.permissions import HasGovernanceRole
from governance.api.views import ledger, mirror, reports, tokens, workflow

app_name = "api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("sources", mirror.SourceViewSet, basename="source")
router.register("experiments", mirror.ExperimentViewSet, basename="experiment")
router.register("runs", mirror.RunViewSet, basename="run")
router.register("models", mirror.RegisteredModelViewSet, basename="registered-model")
router.register("model-versions", mirror.ModelVersionViewSet, basename="model-version")
router.register("requests", workflow.TransitionRequestViewSet, basename="request")
router.register("tokens", tokens.ApiTokenViewSet, basename="token")

urlpatterns = [
    path("v1/", include(router.urls)),
    path(
        "v1/ledger/verification/",
        ledger.LedgerVerificationView.as_view(),
        name="ledger-verification",
    ),
    path(
        "v1/reports/dataset-models/",
        reports.DatasetModelsReport.as_view(),
        name="report-dataset-models",
    ),
    path(
        "v1/reports/production-data/",
        reports.ProductionDataReport.as_view(),
        name="report-production-data",
    ),
    path("v1/reports/holders/", reports.HoldersReport.as_view(), name="report-holders"),
    path(
        "v1/reports/unapproved-changes/",
        reports.UnapprovedChangesReport.as_view(),
        name="report-unapproved-changes",
    ),
    path(
        "schema/",
        SpectacularAPIView.as_view(permission_classes=[HasGovernanceRole]),
        name="schema",
    ),
    path(
        "docs/",
        # The page sets the CSRF cookie its "Try it out" requests send back.
        ensure_csrf_cookie(
            SpectacularSwaggerSplitView.as_view(
                url_name="api:schema", permission_classes=[HasGovernanceRole]
            )
        ),
        name="docs",
    ),
    re_path(r"^.*$", not_found),
]
