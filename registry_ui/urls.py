"""URLs of the reviewer pages."""

from django.urls import path

from registry_ui.views import experiments, home, models, reports, runs

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
]
