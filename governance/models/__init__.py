"""Domain models: the MLflow mirror, the governance workflow and the audit ledger."""

from governance.models.api_tokens import ApiToken
from governance.models.identities import MlflowIdentity
from governance.models.ledger import LedgerEntry, LedgerHead
from governance.models.mirror import (
    DatasetInput,
    Experiment,
    LoggedModel,
    MetricHistory,
    MlflowSource,
    ModelVersion,
    RegisteredModel,
    Run,
    RunMetric,
    SyncRun,
)
from governance.models.webhooks import WebhookDelivery
from governance.models.workflow import ApplyOutbox, Decision, TransitionRequest

__all__ = [
    "ApiToken",
    "ApplyOutbox",
    "DatasetInput",
    "Decision",
    "Experiment",
    "LedgerEntry",
    "LedgerHead",
    "LoggedModel",
    "MetricHistory",
    "MlflowIdentity",
    "MlflowSource",
    "ModelVersion",
    "RegisteredModel",
    "Run",
    "RunMetric",
    "SyncRun",
    "TransitionRequest",
    "WebhookDelivery",
]
