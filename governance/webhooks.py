"""Receive MLflow registry webhooks: verify, remember, enqueue a targeted sync."""

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from governance.models import MlflowSource
from governance.sources import ensure_sources
from governance.webhook_deliveries import (
    DeliveryRejected,
    accept_delivery,
    record_rejected_delivery,
    verify_delivery,
)


def _find_source(name: str) -> MlflowSource | None:
    source = MlflowSource.objects.filter(name=name).first()
    if source is None and name in settings.MLFLOW_SOURCES:
        # Configured but never synced yet: create the rows the settings describe.
        source = next((s for s in ensure_sources() if s.name == name), None)
    return source


def _refuse(source_name: str, request: HttpRequest, rejection: DeliveryRejected) -> JsonResponse:
    record_rejected_delivery(source_name, rejection, request.headers, request.body)
    return JsonResponse(
        {"error": rejection.code, "detail": rejection.message}, status=rejection.status
    )


# MLflow signs its deliveries instead of carrying a CSRF token; the signature is
# the authentication, so this one view is exempt.
@csrf_exempt
def receive_mlflow_webhook(request: HttpRequest, source_name: str) -> JsonResponse:
    if request.method != "POST":
        response = JsonResponse({"error": "method_not_allowed"}, status=405)
        response["Allow"] = "POST"
        return response

    source = _find_source(source_name)
    if source is None:
        return _refuse(
            source_name, request, DeliveryRejected("unknown_source", 404, "no such source")
        )
    if not source.enabled:
        return _refuse(
            source_name, request, DeliveryRejected("source_disabled", 403, "source disabled")
        )

    try:
        delivery = verify_delivery(source.name, request.headers, request.body, timezone.now())
        row = accept_delivery(source, delivery)
    except DeliveryRejected as rejection:
        return _refuse(source.name, request, rejection)
    return JsonResponse(
        {"status": "accepted", "delivery_id": row.delivery_id, "enqueued": row.task_name},
        status=202,
    )
