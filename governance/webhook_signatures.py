"""Sign and check MLflow webhook deliveries the way MLflow 3 signs them.

MLflow follows the Standard Webhooks scheme: an HMAC-SHA256, keyed with the webhook's
secret, over ``<delivery id>.<unix timestamp>.<body>``, sent base64-encoded as
``X-MLflow-Signature: v1,<signature>`` beside ``X-MLflow-Delivery-Id`` and
``X-MLflow-Timestamp`` (mlflow/webhooks/delivery.py in MLflow 3.17).
"""

import base64
import binascii
import hashlib
import hmac
import os

SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_ID_HEADER = "X-MLflow-Delivery-Id"
SIGNATURE_VERSION = "v1"


def secret_variable(source_name: str) -> str:
    """Name the environment variable holding a source's webhook secret."""
    return "MLFLOW_WEBHOOK_SECRET_" + source_name.upper().replace("-", "_")


def webhook_secret(source_name: str) -> str:
    """Return the source's webhook secret from the environment, or "" when unset."""
    return os.environ.get(secret_variable(source_name), "")


def _digest(secret: str, delivery_id: str, timestamp: str, body: bytes) -> bytes:
    # MLflow signs the body exactly as sent: its JSON is ASCII, so str and bytes agree.
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).digest()


def sign(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """Compute the ``X-MLflow-Signature`` value MLflow sends for this delivery."""
    digest = _digest(secret, delivery_id, timestamp, body)
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def signature_matches(
    secret: str, delivery_id: str, timestamp: str, body: bytes, header: str
) -> bool:
    """Check a signature header in constant time; it may list several signatures."""
    expected = _digest(secret, delivery_id, timestamp, body)
    matched = False
    for candidate in header.split():
        version, _, encoded = candidate.partition(",")
        if version != SIGNATURE_VERSION:
            continue
        try:
            given = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        # Every candidate is compared, so timing does not reveal which one matched.
        matched |= hmac.compare_digest(given, expected)
    return matched
