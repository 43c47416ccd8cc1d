"""Serializers of the read API: mirrored MLflow objects, sync status and API tokens.

Strings from MLflow are returned verbatim; clients must treat them as untrusted text.
Metric values may be non-finite, which JSON cannot carry as numbers, so they are
spelled ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``.
"""

import math
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance.models import (
    ApiToken,
    ApplyOutbox,
    DatasetInput,
    Decision,
    Experiment,
    LedgerEntry,
    LoggedModel,
    MetricHistory,
    MlflowSource,
    ModelVersion,
    RegisteredModel,
    Run,
    RunMetric,
    SyncRun,
    TransitionRequest,
)

NON_FINITE = ["NaN", "Infinity", "-Infinity"]
STRING_MAP: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "string"}}
METRIC_VALUE: dict[str, Any] = {
    "oneOf": [{"type": "number"}, {"type": "string", "enum": NON_FINITE}],
    "description": "A float, or NaN/Infinity/-Infinity spelled as a string.",
}


def metric_value(value: float | None, is_nan: bool) -> float | str | None:
    """Return a metric value JSON can carry."""
    if is_nan:
        return "NaN"
    if value is not None and math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


@extend_schema_field(STRING_MAP)
class StringMapField(serializers.JSONField):
    """MLflow params and tags: a JSON object of strings."""


@extend_schema_field({"type": "object", "additionalProperties": {"type": "integer"}})
class AliasMapField(serializers.JSONField):
    """Registered model aliases: alias name to version number."""


@extend_schema_field({"type": "object", "additionalProperties": True, "nullable": True})
class ObjectField(serializers.JSONField):
    """A free-form JSON object mirrored from MLflow."""


@extend_schema_field({"type": "object", "additionalProperties": METRIC_VALUE})
class MetricMapField(serializers.Field):  # type: ignore[type-arg]
    """The latest value of every metric of a run, keyed by metric name."""

    def to_representation(self, value: Any) -> dict[str, float | str | None]:
        return {m.key: metric_value(m.value, m.is_nan) for m in value.all()}


def _redacted_uri(uri: str) -> str:
    # A tracking URI may embed credentials (https://user:secret@host); never echo them.
    parts = urlsplit(uri)
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class SyncRunSerializer(serializers.ModelSerializer[SyncRun]):
    counts = ObjectField()

    class Meta:
        model = SyncRun
        fields = [
            "id",
            "kind",
            "target",
            "status",
            "started_at",
            "finished_at",
            "window_start",
            "counts",
            "error",
        ]


class SourceSerializer(serializers.ModelSerializer[MlflowSource]):
    tracking_uri = serializers.SerializerMethodField()
    last_counts = ObjectField()

    class Meta:
        model = MlflowSource
        fields = [
            "id",
            "name",
            "tracking_uri",
            "enabled",
            "runs_watermark_ms",
            "versions_watermark_ms",
            "last_started_at",
            "last_success_at",
            "last_full_success_at",
            "last_error",
            "last_error_at",
            "last_counts",
            "last_duration_ms",
        ]

    def get_tracking_uri(self, source: MlflowSource) -> str:
        return _redacted_uri(source.tracking_uri)


class SourceDetailSerializer(SourceSerializer):
    recent_syncs = serializers.SerializerMethodField()

    class Meta(SourceSerializer.Meta):
        fields = [*SourceSerializer.Meta.fields, "recent_syncs"]

    @extend_schema_field(SyncRunSerializer(many=True))
    def get_recent_syncs(self, source: MlflowSource) -> Any:
        return SyncRunSerializer(source.sync_runs.all()[:20], many=True).data


class ExperimentSerializer(serializers.ModelSerializer[Experiment]):
    source = serializers.SlugRelatedField(slug_field="name", read_only=True)  # type: ignore[assignment,var-annotated]
    tags = StringMapField()

    class Meta:
        model = Experiment
        fields = [
            "id",
            "source",
            "experiment_id",
            "name",
            "artifact_location",
            "lifecycle_stage",
            "tags",
            "creation_time",
            "last_update_time",
            "deleted_observed_at",
        ]


class RunSerializer(serializers.ModelSerializer[Run]):
    source = serializers.SlugRelatedField(slug_field="name", read_only=True)  # type: ignore[assignment,var-annotated]
    experiment_id = serializers.CharField(source="experiment.experiment_id", read_only=True)
    params = StringMapField()
    tags = StringMapField()
    metrics = MetricMapField(read_only=True)

    class Meta:
        model = Run
        fields = [
            "id",
            "source",
            "run_id",
            "experiment",
            "experiment_id",
            "name",
            "status",
            "start_time",
            "end_time",
            "user_id",
            "lifecycle_stage",
            "parent_run_id",
            "git_commit",
            "params",
            "metrics",
            "tags",
            "deleted_observed_at",
        ]


class RunMetricSerializer(serializers.ModelSerializer[RunMetric]):
    value = serializers.SerializerMethodField(method_name="get_metric_value")

    class Meta:
        model = RunMetric
        fields = ["key", "value", "step", "timestamp_ms"]

    @extend_schema_field(METRIC_VALUE | {"nullable": True})
    def get_metric_value(self, metric: RunMetric) -> float | str | None:
        return metric_value(metric.value, metric.is_nan)


class MetricPointSerializer(serializers.ModelSerializer[MetricHistory]):
    value = serializers.SerializerMethodField(method_name="get_metric_value")

    class Meta:
        model = MetricHistory
        fields = ["key", "step", "timestamp_ms", "value"]

    @extend_schema_field(METRIC_VALUE | {"nullable": True})
    def get_metric_value(self, point: MetricHistory) -> float | str | None:
        return metric_value(point.value, point.is_nan)


class DatasetInputSerializer(serializers.ModelSerializer[DatasetInput]):
    class Meta:
        model = DatasetInput
        fields = ["name", "digest", "source_type", "source", "context", "schema", "profile"]


class LoggedModelSerializer(serializers.ModelSerializer[LoggedModel]):
    flavors = ObjectField()
    signature = ObjectField()
    params = StringMapField()
    tags = StringMapField()

    class Meta:
        model = LoggedModel
        fields = [
            "model_id",
            "experiment_id",
            "run_id",
            "name",
            "status",
            "artifact_location",
            "model_type",
            "flavors",
            "signature",
            "params",
            "tags",
            "creation_time",
        ]


class VersionRefSerializer(serializers.ModelSerializer[ModelVersion]):
    model = serializers.CharField(source="registered_model.name", read_only=True)

    class Meta:
        model = ModelVersion
        fields = ["id", "registered_model", "model", "version", "stage"]


class RunDetailSerializer(RunSerializer):
    metrics = RunMetricSerializer(many=True, read_only=True)  # type: ignore[assignment]
    datasets = DatasetInputSerializer(source="dataset_inputs", many=True, read_only=True)
    artifact_uri = serializers.CharField(read_only=True)
    source_name = serializers.CharField(read_only=True)
    child_run_ids = serializers.SerializerMethodField()
    logged_models = serializers.SerializerMethodField()
    model_versions = VersionRefSerializer(many=True, read_only=True)

    class Meta(RunSerializer.Meta):
        fields = [
            *RunSerializer.Meta.fields,
            "artifact_uri",
            "source_name",
            "datasets",
            "child_run_ids",
            "logged_models",
            "model_versions",
        ]

    def get_child_run_ids(self, run: Run) -> list[str]:
        children = Run.objects.filter(source_id=run.source_id, parent_run_id=run.run_id)
        return list(children.order_by("start_time").values_list("run_id", flat=True))

    @extend_schema_field(LoggedModelSerializer(many=True))
    def get_logged_models(self, run: Run) -> Any:
        models = LoggedModel.objects.filter(source_id=run.source_id, run_id=run.run_id)
        return LoggedModelSerializer(models.order_by("model_id"), many=True).data


class RegisteredModelSerializer(serializers.ModelSerializer[RegisteredModel]):
    source = serializers.SlugRelatedField(slug_field="name", read_only=True)  # type: ignore[assignment,var-annotated]
    tags = StringMapField()
    aliases = AliasMapField()
    stages = serializers.SerializerMethodField()

    class Meta:
        model = RegisteredModel
        fields = [
            "id",
            "source",
            "name",
            "description",
            "risk_tier",
            "tags",
            "aliases",
            "stages",
            "creation_time",
            "last_updated_time",
            "deleted_observed_at",
        ]

    @extend_schema_field(
        {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "integer"}}}
    )
    def get_stages(self, model: RegisteredModel) -> dict[str, list[int]]:
        """Return which live versions hold each stage other than None."""
        held: dict[str, list[int]] = {}
        for version in model.versions.all():
            if version.stage and version.stage != "None" and version.deleted_observed_at is None:
                held.setdefault(version.stage, []).append(version.version)
        return held


class ModelVersionSerializer(serializers.ModelSerializer[ModelVersion]):
    model = serializers.CharField(source="registered_model.name", read_only=True)
    source = serializers.CharField(  # type: ignore[assignment]
        source="registered_model.source.name", read_only=True
    )
    aliases = serializers.SerializerMethodField()
    tags = StringMapField()

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "source",
            "registered_model",
            "model",
            "version",
            "stage",
            "aliases",
            "status",
            "source_uri",
            "run_id",
            "logged_model_id",
            "user_id",
            "description",
            "tags",
            "creation_time",
            "last_updated_time",
            "deleted_observed_at",
        ]

    def get_aliases(self, version: ModelVersion) -> list[str]:
        aliases = version.registered_model.aliases or {}
        return sorted(k for k, v in aliases.items() if str(v) == str(version.version))


class LineageExperimentSerializer(serializers.ModelSerializer[Experiment]):
    class Meta:
        model = Experiment
        fields = ["id", "experiment_id", "name"]


class LineageRunSerializer(serializers.ModelSerializer[Run]):
    class Meta:
        model = Run
        fields = ["id", "run_id", "name", "status", "user_id", "start_time", "end_time"]


class CodeSerializer(serializers.Serializer[Any]):
    git_commit = serializers.CharField()
    source_name = serializers.CharField()


class LineageSerializer(serializers.Serializer[Any]):
    """Experiment → run → datasets → code → logged model → this version."""

    experiment = LineageExperimentSerializer(allow_null=True)
    run = LineageRunSerializer(allow_null=True)
    datasets = DatasetInputSerializer(many=True)
    code = CodeSerializer(allow_null=True)
    logged_model = LoggedModelSerializer(allow_null=True)


class ModelVersionDetailSerializer(ModelVersionSerializer):
    signature = ObjectField()
    lineage = serializers.SerializerMethodField()
    metrics = serializers.SerializerMethodField()

    class Meta(ModelVersionSerializer.Meta):
        fields = [*ModelVersionSerializer.Meta.fields, "signature", "metrics", "lineage"]

    @extend_schema_field(RunMetricSerializer(many=True))
    def get_metrics(self, version: ModelVersion) -> Any:
        run = version.training_run
        if run is None:
            return []
        return RunMetricSerializer(run.metrics.order_by("key"), many=True).data

    @extend_schema_field(LineageSerializer)
    def get_lineage(self, version: ModelVersion) -> Any:
        run = version.training_run
        logged = None
        if version.logged_model_id:
            logged = LoggedModel.objects.filter(
                source_id=version.registered_model.source_id, model_id=version.logged_model_id
            ).first()
        lineage = {
            "experiment": run.experiment if run else None,
            "run": run,
            "datasets": list(run.dataset_inputs.all()) if run else [],
            "code": run,
            "logged_model": logged,
        }
        return LineageSerializer(lineage).data


class UserRefField(serializers.SlugRelatedField):  # type: ignore[type-arg]
    """A user named by username."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="username", **kwargs)


class ApiTokenSerializer(serializers.ModelSerializer[ApiToken]):
    user = UserRefField(read_only=True)
    created_by = UserRefField(read_only=True)
    revoked_by = UserRefField(read_only=True, allow_null=True)
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "user",
            "created_at",
            "created_by",
            "last_used_at",
            "active",
            "revoked_at",
            "revoked_by",
        ]
        read_only_fields = fields


class ApiTokenCreateSerializer(serializers.Serializer[ApiToken]):
    name = serializers.CharField(max_length=100)
    user = UserRefField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        help_text="Whose token; only an admin may name another user. Defaults to the caller.",
    )


class IssuedTokenSerializer(ApiTokenSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="The token itself. Shown once: it is not stored."
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class DecisionSerializer(serializers.ModelSerializer[Decision]):
    """An electronic signature: printed name, time, meaning and what it is bound to."""

    officer = UserRefField(read_only=True)

    class Meta:
        model = Decision
        fields = [
            "id",
            "officer",
            "signer_name",
            "acting_role",
            "meaning",
            "rationale",
            "signed_at",
            "binding_hash",
        ]
        read_only_fields = fields


class TransitionRequestSerializer(serializers.ModelSerializer[TransitionRequest]):
    model = serializers.CharField(source="registered_model.name", read_only=True)
    source = serializers.CharField(  # type: ignore[assignment]
        source="registered_model.source.name", read_only=True
    )
    version = serializers.IntegerField(source="model_version.version", read_only=True)
    requested_by = UserRefField(read_only=True)
    approvals = serializers.SerializerMethodField()

    class Meta:
        model = TransitionRequest
        fields = [
            "id",
            "source",
            "registered_model",
            "model",
            "model_version",
            "version",
            "target_kind",
            "target",
            "status",
            "requested_by",
            "rationale",
            "created_at",
            "required_approvals",
            "approvals",
            "run_author",
            "evidence_hash",
            "decided_at",
            "applied_at",
            "failure_reason",
        ]
        read_only_fields = fields

    def get_approvals(self, request: TransitionRequest) -> int:
        return sum(1 for d in request.decisions.all() if d.meaning == Decision.Meaning.APPROVED)


class TransitionRequestDetailSerializer(TransitionRequestSerializer):
    evidence = ObjectField(read_only=True)
    decisions = DecisionSerializer(many=True, read_only=True)
    apply_status = serializers.SerializerMethodField()

    class Meta(TransitionRequestSerializer.Meta):
        fields = [*TransitionRequestSerializer.Meta.fields, "evidence", "decisions", "apply_status"]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {
                "status": {"type": "string"},
                "attempts": {"type": "integer"},
                "completed_at": {"type": "string", "format": "date-time", "nullable": True},
                "last_error": {"type": "string"},
            },
        }
    )
    def get_apply_status(self, request: TransitionRequest) -> dict[str, Any] | None:
        """Whether MLflow has applied an approved request yet."""
        outbox = ApplyOutbox.objects.filter(request=request).first()
        if outbox is None:
            return None
        completed = outbox.completed_at.isoformat() if outbox.completed_at else None
        return {
            "status": outbox.status,
            "attempts": outbox.attempts,
            "completed_at": completed,
            "last_error": outbox.last_error,
        }


class TransitionRequestCreateSerializer(serializers.Serializer[Any]):
    model_version = serializers.PrimaryKeyRelatedField(
        queryset=ModelVersion.objects.select_related("registered_model__source"),
        help_text="Id of the model version in this API.",
    )
    target_kind = serializers.ChoiceField(choices=TransitionRequest.TargetKind.choices)
    target = serializers.CharField(max_length=250, help_text="A stage or a governed alias.")
    rationale = serializers.CharField(max_length=10_000)


class CancelSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=10_000)


class DecideSerializer(serializers.Serializer[Any]):
    rationale = serializers.CharField(max_length=10_000)
    password = serializers.CharField(
        max_length=4096,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="The signer's password, re-entered: signing is an electronic signature.",
    )


class RiskTierSerializer(serializers.Serializer[Any]):
    risk_tier = serializers.ChoiceField(choices=RegisteredModel.RiskTier.choices)
    reason = serializers.CharField(max_length=10_000)


class LedgerEntrySerializer(serializers.ModelSerializer[LedgerEntry]):
    """One audit event: who, what, when, where, why, and how precisely it is known."""

    before = ObjectField(read_only=True)
    after = ObjectField(read_only=True)
    details = ObjectField(read_only=True)
    corrects: serializers.SlugRelatedField[LedgerEntry] = serializers.SlugRelatedField(
        slug_field="seq", read_only=True, allow_null=True
    )

    class Meta:
        model = LedgerEntry
        fields = [
            "seq",
            "recorded_at",
            "actor_username",
            "actor_name",
            "actor_role",
            "action",
            "object_type",
            "object_id",
            "source_name",
            "model_name",
            "version",
            "target",
            "before",
            "after",
            "reason",
            "details",
            "request_id",
            "client_address",
            "precision",
            "window_start",
            "window_end",
            "corrects",
            "entry_hash",
        ]
        read_only_fields = fields


class LedgerProblemSerializer(serializers.Serializer[Any]):
    seq = serializers.IntegerField(allow_null=True, help_text="The first entry found wrong.")
    reason = serializers.CharField()


class LedgerVerificationSerializer(serializers.Serializer[Any]):
    intact = serializers.BooleanField()
    entries = serializers.IntegerField()
    last_seq = serializers.IntegerField()
    last_hash = serializers.CharField()
    checkpoints = serializers.IntegerField(help_text="Signed checkpoints checked.")
    problem = LedgerProblemSerializer(allow_null=True)
    elapsed_ms = serializers.IntegerField()
    verified_at = serializers.DateTimeField()


class HoldersQuerySerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField(help_text="The moment asked about (ISO 8601, with zone).")
    target_kind = serializers.ChoiceField(
        choices=TransitionRequest.TargetKind.choices, required=False
    )
    target = serializers.CharField(max_length=250, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("target" in attrs) != ("target_kind" in attrs):
            raise serializers.ValidationError("Give target_kind and target together, or neither.")
        return attrs


class ApprovalNoteSerializer(serializers.Serializer[Any]):
    """A signed approval behind a holder: who signed, and why."""

    signer = serializers.CharField()
    reason = serializers.CharField()
    entry_seq = serializers.IntegerField()


class HoldingSerializer(serializers.Serializer[Any]):
    """Which version held a stage or alias at a moment, and how precisely that is known."""

    target_kind = serializers.CharField()
    target = serializers.CharField()
    version = serializers.IntegerField(allow_null=True, help_text="None: nobody held it.")
    precision = serializers.ChoiceField(choices=LedgerEntry.Precision.choices)
    precision_text = serializers.CharField()
    uncertain = serializers.BooleanField(
        help_text="The moment falls inside the observation window of a change."
    )
    candidates = serializers.ListField(
        child=serializers.IntegerField(allow_null=True),
        help_text="When uncertain: the holder before and after that change.",
    )
    also_holding = serializers.ListField(child=serializers.IntegerField())
    established_at = serializers.DateTimeField(allow_null=True)
    window_start = serializers.DateTimeField(allow_null=True)
    window_end = serializers.DateTimeField(allow_null=True)
    entry_seq = serializers.IntegerField(allow_null=True)
    action = serializers.CharField()
    request_id = serializers.IntegerField(allow_null=True)
    requested_by = serializers.CharField()
    approved_by = serializers.ListField(child=serializers.CharField())
    request_reason = serializers.CharField(
        help_text="The requester's rationale, when a request established the holder."
    )
    approvals = ApprovalNoteSerializer(many=True)
    applied_by = serializers.CharField()


class HoldersSerializer(serializers.Serializer[Any]):
    model = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]
    at = serializers.DateTimeField()
    holdings = HoldingSerializer(many=True)


class DatasetModelsQuerySerializer(serializers.Serializer[Any]):
    dataset = serializers.CharField(max_length=500, help_text="A dataset name or digest.")


class DatasetModelRowSerializer(serializers.Serializer[Any]):
    """A version trained on the dataset, with the matching inputs of its training run."""

    model_version = serializers.IntegerField(source="version.pk")
    registered_model = serializers.IntegerField(source="version.registered_model_id")
    model = serializers.CharField(source="version.registered_model.name")
    version = serializers.IntegerField(source="version.version")
    stage = serializers.CharField(source="version.stage")
    aliases = serializers.ListField(child=serializers.CharField())
    risk_tier = serializers.CharField(source="version.registered_model.risk_tier")
    run_id = serializers.CharField(source="version.run_id")
    run_name = serializers.CharField(source="version.training_run.name")
    datasets = DatasetInputSerializer(many=True)


class ProductionDataRowSerializer(serializers.Serializer[Any]):
    run = serializers.IntegerField(source="run.pk")
    run_id = serializers.CharField(source="run.run_id")
    run_name = serializers.CharField(source="run.name")
    experiment = serializers.CharField(source="run.experiment.name")
    user_id = serializers.CharField(source="run.user_id")
    start_time = serializers.DateTimeField(source="run.start_time", allow_null=True)
    reasons = serializers.ListField(child=serializers.CharField())
    model_versions = VersionRefSerializer(many=True)


class HoldersAcrossModelsQuerySerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField(help_text="The moment asked about (ISO 8601, with zone).")
    target_kind = serializers.ChoiceField(
        choices=TransitionRequest.TargetKind.choices, default="stage"
    )
    target = serializers.CharField(max_length=250, default="Production")


class ModelHoldingSerializer(serializers.Serializer[Any]):
    registered_model = serializers.IntegerField(source="model.pk")
    model = serializers.CharField(source="model.name")
    source = serializers.CharField(source="model.source.name")  # type: ignore[assignment]
    holding = HoldingSerializer()


class UnapprovedQuerySerializer(serializers.Serializer[Any]):
    source = serializers.CharField(max_length=64, required=False)  # type: ignore[assignment]
    model = serializers.CharField(max_length=10_000, required=False)
