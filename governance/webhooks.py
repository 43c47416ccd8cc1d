"""Receive MLflow registry webhooks (filled in by the webhook work)."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@csrf_exempt
@require_POST
def receive_mlflow_webhook(request: HttpRequest, source_name: str) -> HttpResponse:
    return HttpResponse(status=503)
