"""The append-only, hash-chained audit ledger.

``canonical`` holds the exact bytes that were hashed; the structured columns beside
it exist for queries and must agree with it (the verifier checks that they do).
"""

from django.conf import settings
from django.db import models


class LedgerEntry(models.Model):
    class Precision(models.TextChoices):
        # The change was made by this system and confirmed in MLflow at recorded_at.
        EXACT = "exact"
        # The change was seen by a sync; it happened somewhere in the window.
        OBSERVED = "observed"
        # A governance action inside this system (request, decision, role change).
        RECORDED = "recorded"

    seq = models.BigIntegerField(unique=True)
    recorded_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_username = models.CharField(max_length=150, blank=True)
    actor_name = models.CharField(max_length=300, blank=True)
    actor_role = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=500, blank=True)
    source_name = models.CharField(max_length=64, blank=True)
    model_name = models.TextField(blank=True)
    version = models.PositiveIntegerField(null=True, blank=True)
    target = models.CharField(max_length=250, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    client_address = models.CharField(max_length=64, blank=True)
    precision = models.CharField(max_length=16, choices=Precision.choices)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections"
    )
    canonical = models.TextField()
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["source_name", "model_name", "version"]),
            # A model's latest entry (the inventory's "last change") in one index probe.
            models.Index(fields=["source_name", "model_name", "-seq"]),
            models.Index(fields=["model_name", "target", "recorded_at"]),
            models.Index(fields=["recorded_at"]),
        ]
        verbose_name_plural = "ledger entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"


class LedgerHead(models.Model):
    """One row holding the chain's head; locking it serialises appends."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"ledger head #{self.seq}"
