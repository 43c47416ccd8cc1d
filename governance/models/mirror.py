"""The local mirror of MLflow tracking servers.

Rows are keyed by (source, MLflow id). Nothing is hard-deleted: an object that
disappears from MLflow keeps its row with ``deleted_observed_at`` set. Each
mirrored row carries ``content_hash``, a digest of the MLflow payload it was
built from, so an unchanged object is recognised without comparing field by field.
"""

from django.db import models


class MlflowSource(models.Model):
    """A configured MLflow tracking server and the state of its sync."""

    name = models.SlugField(max_length=64, unique=True)
    tracking_uri = models.CharField(max_length=500)
    enabled = models.BooleanField(default=True)

    # Watermarks in epoch milliseconds, as MLflow reports times.
    runs_watermark_ms = models.BigIntegerField(null=True, blank=True)
    versions_watermark_ms = models.BigIntegerField(null=True, blank=True)

    last_started_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_full_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_counts = models.JSONField(default=dict, blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)

    # The lease of the sync that is running: a conditional UPDATE claims it, so one
    # sync per source runs at a time across processes; a crashed holder's lease expires.
    sync_lease_token = models.CharField(max_length=64, blank=True)
    sync_lease_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SyncRun(models.Model):
    """One sync pass over a source; the observation window of the events it records."""

    class Kind(models.TextChoices):
        FULL = "full"
        INCREMENTAL = "incremental"
        MODEL = "model"

    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    source = models.ForeignKey(MlflowSource, on_delete=models.PROTECT, related_name="sync_runs")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    target = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    # The previous successful pass: what happened in MLflow happened in between.
    window_start = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["source", "status", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.kind} sync of {self.source_id} at {self.started_at:%Y-%m-%d %H:%M:%S}"


class Experiment(models.Model):
    source = models.ForeignKey(MlflowSource, on_delete=models.PROTECT, related_name="experiments")
    experiment_id = models.CharField(max_length=64)
    name = models.TextField()
    artifact_location = models.TextField(blank=True)
    lifecycle_stage = models.CharField(max_length=32)
    tags = models.JSONField(default=dict, blank=True)
    creation_time = models.DateTimeField(null=True, blank=True)
    last_update_time = models.DateTimeField(null=True, blank=True)
    content_hash = models.CharField(max_length=64)
    deleted_observed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "experiment_id"], name="experiment_natural_key"
            )
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Run(models.Model):
    source = models.ForeignKey(MlflowSource, on_delete=models.PROTECT, related_name="runs")
    run_id = models.CharField(max_length=64)
    experiment = models.ForeignKey(Experiment, on_delete=models.PROTECT, related_name="runs")
    name = models.TextField(blank=True)
    status = models.CharField(max_length=32)
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    # MLflow's epoch-ms times, kept for watermark comparisons without conversion.
    start_time_ms = models.BigIntegerField(null=True, blank=True)
    end_time_ms = models.BigIntegerField(null=True, blank=True)
    user_id = models.TextField(blank=True)
    lifecycle_stage = models.CharField(max_length=32)
    parent_run_id = models.CharField(max_length=64, blank=True, db_index=True)
    artifact_uri = models.TextField(blank=True)
    params = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    git_commit = models.CharField(max_length=64, blank=True)
    source_name = models.TextField(blank=True)
    content_hash = models.CharField(max_length=64)
    # Digest of the latest metric values alone, and its value when the metric history
    # was last fetched: history is re-read only for runs whose metrics moved.
    metrics_hash = models.CharField(max_length=64, blank=True)
    history_hash = models.CharField(max_length=64, blank=True)
    deleted_observed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "run_id"], name="run_natural_key")]
        indexes = [
            models.Index(fields=["experiment", "-start_time"]),
            models.Index(fields=["status"]),
            models.Index(fields=["user_id"]),
        ]
        ordering = ["-start_time"]

    def __str__(self) -> str:
        return self.name or self.run_id


class RunMetric(models.Model):
    """The latest value of one metric of a run.

    SQLite stores NaN as NULL, so NaN is kept as ``value=None, is_nan=True`` on every
    backend; infinities are stored as floats.
    """

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="metrics")
    key = models.CharField(max_length=250)
    value = models.FloatField(null=True)
    is_nan = models.BooleanField(default=False)
    step = models.BigIntegerField(default=0)
    timestamp_ms = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="run_metric_key")]
        indexes = [models.Index(fields=["key", "value"])]

    def __str__(self) -> str:
        return f"{self.key}={'NaN' if self.is_nan else self.value}"


class MetricHistory(models.Model):
    """Every logged value of a metric, fetched for runs behind registered versions."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="metric_history")
    key = models.CharField(max_length=250)
    step = models.BigIntegerField()
    timestamp_ms = models.BigIntegerField()
    value = models.FloatField(null=True)
    is_nan = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "key", "step", "timestamp_ms"], name="metric_history_point"
            )
        ]
        ordering = ["key", "step", "timestamp_ms"]

    def __str__(self) -> str:
        return f"{self.key}@{self.step}"


class DatasetInput(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="dataset_inputs")
    name = models.TextField()
    digest = models.CharField(max_length=64, db_index=True)
    source_type = models.CharField(max_length=64, blank=True)
    source = models.TextField(blank=True)
    context = models.CharField(max_length=64, blank=True)
    schema = models.TextField(blank=True)
    profile = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "name", "digest", "context"], name="dataset_input_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.digest})"


class LoggedModel(models.Model):
    """An MLflow 3 logged model (``models:/m-...``) with its flavors and signature."""

    source = models.ForeignKey(MlflowSource, on_delete=models.PROTECT, related_name="logged_models")
    model_id = models.CharField(max_length=64)
    experiment_id = models.CharField(max_length=64)
    run_id = models.CharField(max_length=64, blank=True, db_index=True)
    name = models.TextField()
    status = models.CharField(max_length=32, blank=True)
    artifact_location = models.TextField(blank=True)
    model_type = models.TextField(blank=True)
    flavors = models.JSONField(default=dict, blank=True)
    signature = models.JSONField(null=True, blank=True)
    params = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    creation_time = models.DateTimeField(null=True, blank=True)
    content_hash = models.CharField(max_length=64)
    deleted_observed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "model_id"], name="logged_model_natural_key")
        ]

    def __str__(self) -> str:
        return self.model_id


class RegisteredModel(models.Model):
    class RiskTier(models.TextChoices):
        LOW = "low"
        MEDIUM = "medium"
        HIGH = "high"

    source = models.ForeignKey(MlflowSource, on_delete=models.PROTECT, related_name="models")
    name = models.TextField()
    description = models.TextField(blank=True)
    tags = models.JSONField(default=dict, blank=True)
    # {alias: version number}, the snapshot seen at the last sync.
    aliases = models.JSONField(default=dict, blank=True)
    creation_time = models.DateTimeField(null=True, blank=True)
    last_updated_time = models.DateTimeField(null=True, blank=True)
    content_hash = models.CharField(max_length=64)
    deleted_observed_at = models.DateTimeField(null=True, blank=True)
    # Governance state, not mirrored: set by officers through the workflow service.
    risk_tier = models.CharField(max_length=16, choices=RiskTier.choices, default=RiskTier.MEDIUM)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "name"], name="registered_model_natural_key")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ModelVersion(models.Model):
    registered_model = models.ForeignKey(
        RegisteredModel, on_delete=models.PROTECT, related_name="versions"
    )
    version = models.PositiveIntegerField()
    source_uri = models.TextField(blank=True)
    run_id = models.CharField(max_length=64, blank=True, db_index=True)
    training_run = models.ForeignKey(
        Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="model_versions"
    )
    logged_model_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=32, blank=True)
    stage = models.CharField(max_length=32, default="None")
    description = models.TextField(blank=True)
    tags = models.JSONField(default=dict, blank=True)
    user_id = models.TextField(blank=True)
    signature = models.JSONField(null=True, blank=True)
    creation_time = models.DateTimeField(null=True, blank=True)
    last_updated_time = models.DateTimeField(null=True, blank=True)
    last_updated_ms = models.BigIntegerField(null=True, blank=True)
    content_hash = models.CharField(max_length=64)
    deleted_observed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["registered_model", "version"], name="model_version_natural_key"
            )
        ]
        ordering = ["registered_model", "-version"]

    def __str__(self) -> str:
        return f"{self.registered_model.name} v{self.version}"
