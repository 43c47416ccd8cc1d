"""URLs for MLflow webhook deliveries."""

from django.urls import path

from governance import webhooks

app_name = "webhooks"
urlpatterns = [
    path("mlflow/<slug:source_name>/", webhooks.receive_mlflow_webhook, name="mlflow"),
]
