"""Accepted MLflow webhook deliveries, remembered so a replayed delivery is refused."""

from django.db import models

from governance.models.mirror import MlflowSource


class WebhookDelivery(models.Model):
    """One verified delivery; the unique delivery id per source refuses replays.

    Rows are a receipt log and are kept: registry webhooks arrive at the pace of
    human registry changes, so the table stays small.
    """

    source = models.ForeignKey(
        MlflowSource, on_delete=models.PROTECT, related_name="webhook_deliveries"
    )
    delivery_id = models.CharField(max_length=100)
    # The sender's signed X-MLflow-Timestamp, and our clock when it arrived.
    signed_at = models.DateTimeField()
    received_at = models.DateTimeField()
    entity = models.CharField(max_length=64)
    action = models.CharField(max_length=32)
    model_name = models.TextField(blank=True)
    task_name = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "delivery_id"], name="webhook_delivery_once")
        ]
        ordering = ["-received_at"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.entity}.{self.action} {self.delivery_id}"
