"""Verify MLflow webhook deliveries, accept each once, record the ones refused.

The timestamp is signed, so an old delivery cannot be made to look fresh; the
delivery id, remembered per source, refuses a replay within the freshness window.
"""

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance import ledger, tasks
from governance.models import MlflowSource, WebhookDelivery
from governance.webhook_signatures import (
    DELIVERY_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature_matches,
    webhook_secret,
)

logger = logging.getLogger(__name__)

# Registry entities whose deliveries name a registered model worth re-reading.
# Prompt and budget events carry nothing the mirror keeps.
REGISTRY_ENTITIES = frozenset(
    {"registered_model", "model_version", "model_version_tag", "model_version_alias"}
)
_MAX_DELIVERY_ID = 100
_MAX_MODEL_NAME = 1000


class DeliveryRejected(Exception):
    """A delivery was refused; ``status`` is the HTTP answer, ``code`` a stable word."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Delivery:
    """A delivery whose signature and freshness were verified."""

    delivery_id: str
    signed_at: datetime
    entity: str
    action: str
    model_name: str


def _signed_at(timestamp: str, now: datetime) -> datetime:
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise DeliveryRejected("bad_timestamp", 400, f"{TIMESTAMP_HEADER} is not a unix time")
    # Compared as integers first: a far-future value does not fit in a datetime.
    age = abs(int(now.timestamp()) - int(timestamp))
    if age > settings.MLFLOW_WEBHOOK_MAX_AGE_SECONDS:
        raise DeliveryRejected(
            "stale_timestamp",
            401,
            f"the delivery was signed {age} s away from now; at most "
            f"{settings.MLFLOW_WEBHOOK_MAX_AGE_SECONDS} s are accepted",
        )
    return datetime.fromtimestamp(int(timestamp), tz=UTC)


def _parse(body: bytes) -> tuple[str, str, str]:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise DeliveryRejected("malformed_json", 400, "the body is not JSON") from exc
    if not isinstance(payload, dict):
        raise DeliveryRejected("malformed_payload", 400, "the body is not a JSON object")
    entity, action, data = payload.get("entity"), payload.get("action"), payload.get("data")
    if not isinstance(entity, str) or not isinstance(action, str) or not isinstance(data, dict):
        raise DeliveryRejected("malformed_payload", 400, "the body lacks entity, action or data")
    name = data.get("name", "")
    if not isinstance(name, str) or len(name) > _MAX_MODEL_NAME:
        raise DeliveryRejected("malformed_payload", 400, "data.name is not a model name")
    return entity[:64], action[:32], name


def verify_delivery(
    source_name: str, headers: Mapping[str, str], body: bytes, now: datetime
) -> Delivery:
    """Return the verified delivery, or raise DeliveryRejected saying why not."""
    secret = webhook_secret(source_name)
    if not secret:
        raise DeliveryRejected("not_configured", 403, "webhooks are not configured for this source")
    delivery_id = headers.get(DELIVERY_ID_HEADER, "")
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    signature = headers.get(SIGNATURE_HEADER, "")
    if not delivery_id or len(delivery_id) > _MAX_DELIVERY_ID or not delivery_id.isprintable():
        raise DeliveryRejected("bad_delivery_id", 400, f"{DELIVERY_ID_HEADER} is missing or bad")
    if not timestamp:
        raise DeliveryRejected("bad_timestamp", 400, f"{TIMESTAMP_HEADER} is missing")
    if not signature:
        raise DeliveryRejected("missing_signature", 401, f"{SIGNATURE_HEADER} is missing")

    if not signature_matches(secret, delivery_id, timestamp, body, signature):
        raise DeliveryRejected("bad_signature", 401, "the signature does not match")
    signed_at = _signed_at(timestamp, now)
    entity, action, model_name = _parse(body)
    return Delivery(delivery_id, signed_at, entity, action, model_name)


def _task_for(delivery: Delivery) -> str:
    if delivery.entity not in REGISTRY_ENTITIES:
        return ""
    return tasks.sync_model.name if delivery.model_name else tasks.sync_source.name


def accept_delivery(source: MlflowSource, delivery: Delivery) -> WebhookDelivery:
    """Remember a verified delivery and enqueue the sync it asks for, once.

    A delivery id already seen for this source raises DeliveryRejected (a replay).
    Enqueueing waits for the commit; if the broker then fails, the scheduled poll
    still picks the change up, so the failure is logged rather than raised.
    """
    try:
        with transaction.atomic():
            task_name = _task_for(delivery)
            row = WebhookDelivery.objects.create(
                source=source,
                delivery_id=delivery.delivery_id,
                signed_at=delivery.signed_at,
                received_at=timezone.now(),
                entity=delivery.entity,
                action=delivery.action,
                model_name=delivery.model_name,
                task_name=task_name,
            )
            if task_name == tasks.sync_model.name:
                enqueue = partial(tasks.sync_model.delay, source.id, delivery.model_name)
                transaction.on_commit(enqueue, robust=True)
            elif task_name == tasks.sync_source.name:
                transaction.on_commit(partial(tasks.sync_source.delay, source.id), robust=True)
    except IntegrityError as exc:
        raise DeliveryRejected("replayed", 409, "this delivery id was already accepted") from exc
    logger.info(
        "accepted webhook delivery %s of source %s: %s.%s, enqueued %s",
        row.delivery_id,
        source.name,
        row.entity,
        row.action,
        task_name or "nothing",
    )
    return row


def record_rejected_delivery(
    source_name: str,
    rejection: DeliveryRejected,
    headers: Mapping[str, str],
    body: bytes,
) -> None:
    """Record a refused delivery as a security event (never its signature)."""
    delivery_id = headers.get(DELIVERY_ID_HEADER, "")[:_MAX_DELIVERY_ID]
    details = {
        "code": rejection.code,
        "status": rejection.status,
        "delivery_id": delivery_id,
        "timestamp_header": headers.get(TIMESTAMP_HEADER, "")[:32],
        "body_bytes": len(body),
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "user_agent": headers.get("User-Agent", "")[:200],
    }
    with transaction.atomic():
        ledger.append(
            ledger.EntryDraft(
                action="security.webhook_rejected",
                object_type="webhook_delivery",
                object_id=delivery_id,
                precision="recorded",
                source_name=source_name[:64],
                reason=rejection.message,
                details=details,
            )
        )
    logger.warning(
        "rejected webhook delivery %r for source %r: %s (%s)",
        delivery_id,
        source_name[:64],
        rejection.code,
        rejection.status,
    )
