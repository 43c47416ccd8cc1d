"""Point the demo MLflow server's registry webhooks at the dashboard being served.

Demo code: it imports ``mlflow`` directly (see the package docstring).
"""

import logging
import os

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

from mlflow import MlflowClient

logger = logging.getLogger(__name__)

WEBHOOK_NAME = "governance-dashboard"
# Every registry event MLflow can deliver; it sends none for stage transitions or
# description edits, which the periodic sync still catches.
EVENTS = [
    "registered_model.created",
    "model_version.created",
    "model_version_tag.set",
    "model_version_tag.deleted",
    "model_version_alias.created",
    "model_version_alias.deleted",
]


def register_webhook(tracking_uri: str, url: str, secret: str) -> str:
    """Create or update the dashboard's webhook on ``tracking_uri``; return its id."""
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    existing = next((w for w in client.list_webhooks() if w.name == WEBHOOK_NAME), None)
    if existing is None:
        webhook = client.create_webhook(
            name=WEBHOOK_NAME,
            url=url,
            events=EVENTS,  # type: ignore[arg-type]
            description="Registry changes for the governance dashboard demo.",
            secret=secret,
        )
        logger.info("Webhook %s created on %s for %s", webhook.webhook_id, tracking_uri, url)
        return str(webhook.webhook_id)
    client.update_webhook(existing.webhook_id, url=url, events=EVENTS, secret=secret)  # type: ignore[arg-type]
    logger.info("Webhook %s on %s now delivers to %s", existing.webhook_id, tracking_uri, url)
    return str(existing.webhook_id)
