"""URLs of the reviewer pages."""

from django.urls import path

from registry_ui.views import (
    access_roles,
    audit_export,
    corrections,
    decisions,
    experiments,
    home,
    models,
    reports,
    requests,
    runs,
    selection,
    timeline,
)

app_name = "registry_ui"
urlpatterns = [
    path("", home.home, name="home"),
    path("experiments/", experiments.experiment_list, name="experiment_list"),
    path("experiments/<int:experiment_pk>/runs/", experiments.run_list, name="run_list"),
    path("runs/compare/", runs.run_compare, name="run_compare"),
    path("runs/<int:pk>/", runs.run_detail, name="run_detail"),
    path("models/", models.model_inventory, name="model_inventory"),
    path("models/versions/<int:pk>/", models.model_version_detail, name="model_version_detail"),
    path("reports/", reports.report_index, name="report_index"),
    path("reports/dataset-models/", reports.report_dataset_models, name="report_dataset_models"),
    path("reports/production-data/", reports.report_production_data, name="report_production_data"),
    path(
        "reports/unapproved-changes/",
        reports.report_unapproved_changes,
        name="report_unapproved_changes",
    ),
    # Request, decide, trace, select, administer and audit.
    path(
        "models/versions/<int:pk>/request/",
        requests.request_transition,
        name="request_transition",
    ),
    path("requests/mine/", requests.my_requests, name="my_requests"),
    path("requests/<int:pk>/", decisions.request_detail, name="request_detail"),
    path("requests/<int:pk>/cancel/", requests.cancel_request, name="cancel_request"),
    path("decisions/", decisions.decision_inbox, name="decision_inbox"),
    path("models/versions/<int:pk>/timeline/", timeline.version_timeline, name="version_timeline"),
    path("models/<int:pk>/timeline/", timeline.model_timeline, name="model_timeline"),
    path("selection/", selection.selection_list, name="selection_list"),
    path("selection/<int:pk>/", selection.selection_record, name="selection_record"),
    path("access/", access_roles.access_roles, name="access_roles"),
    path("access/users/<int:pk>/<str:change>/", access_roles.change_role, name="change_role"),
    path("access/mlflow-names/", access_roles.link_mlflow_name, name="link_mlflow_name"),
    path(
        "access/mlflow-names/<int:pk>/unlink/",
        access_roles.unlink_mlflow_name,
        name="unlink_mlflow_name",
    ),
    path("audit/", audit_export.audit_export, name="audit_export"),
    path("ledger/<int:seq>/correct/", corrections.correct_entry, name="correct_entry"),
    path(
        "reports/production-on-date/",
        audit_export.report_production_on_date,
        name="report_production_on_date",
    ),
]
