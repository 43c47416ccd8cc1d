"""Transition requests, signed decisions and the outbox that applies them to MLflow."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.db.models.lookups import Exact

from governance.models.mirror import ModelVersion, RegisteredModel

PRODUCTION_STAGE = "Production"


class TransitionRequest(models.Model):
    class TargetKind(models.TextChoices):
        STAGE = "stage"
        ALIAS = "alias"

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        REJECTED = "rejected"
        CANCELLED = "cancelled"
        APPLIED = "applied"
        FAILED = "failed"
        STALE = "stale"

    registered_model = models.ForeignKey(
        RegisteredModel, on_delete=models.PROTECT, related_name="requests"
    )
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="requests"
    )
    target_kind = models.CharField(max_length=8, choices=TargetKind.choices)
    target = models.CharField(max_length=250)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="transition_requests"
    )
    rationale = models.TextField()
    created_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Frozen at request time: the candidate's and the incumbent's fingerprints and
    # metrics. ``evidence_hash`` is the SHA-256 of its canonical JSON.
    evidence = models.JSONField()
    evidence_hash = models.CharField(max_length=64)
    required_approvals = models.PositiveSmallIntegerField(default=1)
    # MLflow user that created the version's training run, for separation of duties.
    run_author = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["registered_model", "target_kind", "target"],
                condition=Q(status="pending"),
                name="one_open_request_per_target",
            )
        ]

    def __str__(self) -> str:
        return f"request {self.pk}: {self.model_version} to {self.target}"


class Decision(models.Model):
    """An electronic signature: who decided what, when, meaning what, bound to what."""

    class Meaning(models.TextChoices):
        APPROVED = "approved"
        REJECTED = "rejected"

    request = models.ForeignKey(
        TransitionRequest, on_delete=models.PROTECT, related_name="decisions"
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Copied from the request so the database itself can refuse a conflict of duties.
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    officer_username = models.CharField(max_length=150)
    # MLflow records a run's author as whatever name the client had: an OS account or,
    # on hosted tracking servers, an e-mail address. Either may name the officer.
    officer_email = models.CharField(max_length=254, blank=True, default="")
    run_author = models.TextField(blank=True)
    # The user an admin linked the run author's MLflow name to, when one did.
    run_author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    target = models.CharField(max_length=250)
    acting_role = models.CharField(max_length=64)
    meaning = models.CharField(max_length=16, choices=Meaning.choices)
    rationale = models.TextField()
    signer_name = models.CharField(max_length=300)
    signed_at = models.DateTimeField()
    # SHA-256 over the version's identity and the frozen evidence hash.
    binding_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["signed_at"]
        constraints = [
            models.UniqueConstraint(fields=["request", "officer"], name="one_decision_per_officer"),
            models.CheckConstraint(
                condition=~Q(officer=F("requester")), name="decision_not_by_requester"
            ),
            models.CheckConstraint(condition=~Q(acting_role="admin"), name="decision_not_as_admin"),
            models.CheckConstraint(
                condition=~(
                    Q(target=PRODUCTION_STAGE)
                    & ~Q(run_author="")
                    # Lower() on both sides: iexact against a column is LIKE on
                    # SQLite, where an "_" in the run author would match any letter.
                    & (
                        Q(Exact(Lower("officer_username"), Lower("run_author")))
                        | Q(Exact(Lower("officer_email"), Lower("run_author")))
                    )
                ),
                name="production_not_by_run_author",
            ),
            models.CheckConstraint(
                condition=~(Q(target=PRODUCTION_STAGE) & Q(officer=F("run_author_user"))),
                name="production_not_by_linked_run_author",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meaning} by {self.signer_name} on request {self.request_id}"


class ApplyOutbox(models.Model):
    """A change approved but not yet confirmed in MLflow; the relay re-sends it."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DONE = "done"
        FAILED = "failed"
        STALE = "stale"

    request = models.OneToOneField(
        TransitionRequest, on_delete=models.PROTECT, related_name="outbox"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    last_dispatched_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"outbox for request {self.request_id}: {self.status}"
