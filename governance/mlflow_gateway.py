"""The one module that talks to MLflow.

Everything crossing this boundary is a frozen dataclass of plain values: MLflow
entities never leak into the domain. Times stay epoch milliseconds here; the sync
turns them into aware UTC datetimes.
"""

import json
import logging
import math
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

# MLflow reads its HTTP retry policy from the environment. Its default retries a
# dead server for minutes; a sync must fail fast and let the next pass retry.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(settings.MLFLOW_REQUEST_TIMEOUT))

from mlflow import MlflowClient
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException
from mlflow.store.tracking.rest_store import RestStore

logger = logging.getLogger(__name__)

_NOT_FOUND = {"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"}
_PERMANENT = {
    "INVALID_PARAMETER_VALUE",
    "BAD_REQUEST",
    "INVALID_STATE",
    "PERMISSION_DENIED",
    "UNAUTHENTICATED",
    "RESOURCE_ALREADY_EXISTS",
    "FEATURE_DISABLED",
}


class MlflowError(Exception):
    """MLflow answered with an error that retrying will not fix."""


class MlflowNotFound(MlflowError):
    """The object does not exist (any more) in MLflow."""


class MlflowUnavailable(Exception):
    """MLflow could not be reached or failed transiently; a retry may succeed."""


@dataclass(frozen=True)
class RemoteExperiment:
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str
    tags: dict[str, str]
    creation_time_ms: int | None
    last_update_time_ms: int | None


@dataclass(frozen=True)
class RemoteMetric:
    key: str
    value: float
    step: int
    timestamp_ms: int


@dataclass(frozen=True)
class RemoteDataset:
    name: str
    digest: str
    source_type: str
    source: str
    context: str
    schema: str
    profile: str


@dataclass(frozen=True)
class RemoteRun:
    run_id: str
    experiment_id: str
    name: str
    status: str
    start_time_ms: int | None
    end_time_ms: int | None
    user_id: str
    lifecycle_stage: str
    artifact_uri: str
    params: dict[str, str]
    metrics: tuple[RemoteMetric, ...]
    tags: dict[str, str]
    datasets: tuple[RemoteDataset, ...]
    logged_model_ids: tuple[str, ...]


@dataclass(frozen=True)
class RemoteLoggedModel:
    model_id: str
    experiment_id: str
    run_id: str
    name: str
    status: str
    artifact_location: str
    model_type: str
    params: dict[str, str]
    tags: dict[str, str]
    creation_time_ms: int | None
    last_updated_time_ms: int | None = None


@dataclass(frozen=True)
class ModelMetadata:
    """What the MLmodel file says: flavors and the signature as MLflow's dict."""

    flavors: dict[str, Any] = field(default_factory=dict)
    signature: dict[str, Any] | None = None


@dataclass(frozen=True)
class RemoteRegisteredModel:
    name: str
    description: str
    tags: dict[str, str]
    aliases: dict[str, int]
    creation_time_ms: int | None
    last_updated_time_ms: int | None


@dataclass(frozen=True)
class RemoteModelVersion:
    name: str
    version: int
    source: str
    run_id: str
    model_id: str
    status: str
    stage: str
    description: str
    tags: dict[str, str]
    user_id: str
    creation_time_ms: int | None
    last_updated_time_ms: int | None


def _metric(m: Any) -> RemoteMetric:
    return RemoteMetric(m.key, _float(m.value), int(m.step or 0), int(m.timestamp or 0))


def _float(value: Any) -> float:
    # Protobuf JSON spells non-finite doubles as "NaN", "Infinity" and "-Infinity";
    # MLflow's SQL stores keep an infinity as the largest finite double: give it back.
    number = float(value)
    if abs(number) == sys.float_info.max:
        number = math.copysign(math.inf, number)
    return number


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _pairs(items: Any) -> dict[str, str]:
    return {str(i["key"]): str(i.get("value", "")) for i in items or []}


def _run_from_json(run: dict[str, Any]) -> RemoteRun:
    """Build a run from the JSON of MLflow's search endpoint."""
    info, data = run.get("info", {}), run.get("data", {})
    inputs = (run.get("inputs") or {}).get("dataset_inputs") or []
    outputs = (run.get("outputs") or {}).get("model_outputs") or []
    datasets = []
    for item in inputs:
        dataset = item.get("dataset") or {}
        datasets.append(
            RemoteDataset(
                name=dataset.get("name", ""),
                digest=dataset.get("digest", ""),
                source_type=dataset.get("source_type", ""),
                source=dataset.get("source", ""),
                context=_pairs(item.get("tags")).get("mlflow.data.context", ""),
                schema=dataset.get("schema", ""),
                profile=dataset.get("profile", ""),
            )
        )
    return RemoteRun(
        run_id=info["run_id"],
        experiment_id=str(info.get("experiment_id", "")),
        name=info.get("run_name", ""),
        status=info.get("status", ""),
        start_time_ms=_int(info.get("start_time")),
        end_time_ms=_int(info.get("end_time")),
        user_id=info.get("user_id", ""),
        lifecycle_stage=info.get("lifecycle_stage", ""),
        artifact_uri=info.get("artifact_uri", ""),
        params=_pairs(data.get("params")),
        metrics=tuple(
            RemoteMetric(
                m["key"],
                _float(m.get("value", 0)),
                int(m.get("step", 0)),
                int(m.get("timestamp", 0)),
            )
            for m in data.get("metrics") or []
        ),
        tags=_pairs(data.get("tags")),
        datasets=tuple(datasets),
        logged_model_ids=tuple(o["model_id"] for o in outputs if o.get("model_id")),
    )


def _model_id_in(source: str) -> str:
    # Version searches over REST leave model_id empty; a version made from a logged
    # model still names it in its source, as models:/m-<id>.
    match = re.fullmatch(r"models:/(m-[0-9a-f]{32})/?", source)
    return match.group(1) if match else ""


def _translate(exc: Exception) -> Exception:
    if isinstance(exc, MlflowException):
        code = str(getattr(exc, "error_code", ""))
        if code in _NOT_FOUND:
            return MlflowNotFound(exc.message)
        if code in _PERMANENT:
            return MlflowError(exc.message)
        return MlflowUnavailable(exc.message)
    return MlflowUnavailable(f"{type(exc).__name__}: {exc}")


def _tags(raw: Any) -> dict[str, str]:
    if isinstance(raw, dict):
        return {str(k): "" if v is None else str(v) for k, v in raw.items()}
    return {str(t.key): "" if t.value is None else str(t.value) for t in raw or []}


class MlflowGateway:
    """Read and write one MLflow tracking server."""

    def __init__(self, tracking_uri: str) -> None:
        self.tracking_uri = tracking_uri
        self._client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        store = self._client._tracking_client.store
        # Over REST, runs are read as JSON directly (see _iter_run_pages_json).
        self._rest_creds = store.get_host_creds() if isinstance(store, RestStore) else None

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self._client, method)(*args, **kwargs)
        except (MlflowError, MlflowUnavailable):
            raise
        except Exception as exc:
            raise _translate(exc) from exc

    def _paged(self, method: str, **kwargs: Any) -> Iterator[list[Any]]:
        token: str | None = None
        while True:
            page = self._call(method, page_token=token, **kwargs)
            yield list(page)
            token = page.token
            if not token:
                return

    # Tracking ---------------------------------------------------------------

    def iter_experiments(self) -> Iterator[RemoteExperiment]:
        for page in self._paged("search_experiments", view_type=ViewType.ALL, max_results=1000):
            for exp in page:
                yield RemoteExperiment(
                    experiment_id=str(exp.experiment_id),
                    name=exp.name or "",
                    artifact_location=exp.artifact_location or "",
                    lifecycle_stage=exp.lifecycle_stage or "",
                    tags=_tags(exp.tags),
                    creation_time_ms=exp.creation_time,
                    last_update_time_ms=exp.last_update_time,
                )

    def iter_run_pages(
        self,
        experiment_ids: list[str],
        filter_string: str = "",
        page_size: int | None = None,
    ) -> Iterator[list[RemoteRun]]:
        """Yield pages of runs in every lifecycle state, oldest first."""
        if self._rest_creds is not None:
            yield from self._iter_run_pages_json(
                experiment_ids, filter_string, page_size or settings.SYNC_PAGE_SIZE
            )
            return
        for page in self._paged(
            "search_runs",
            experiment_ids=experiment_ids,
            filter_string=filter_string,
            run_view_type=ViewType.ALL,
            max_results=page_size or settings.SYNC_PAGE_SIZE,
            order_by=["attributes.start_time ASC", "attributes.run_id ASC"],
        ):
            yield [self._run(run) for run in page]

    @staticmethod
    def _run(run: Any) -> RemoteRun:
        info, data = run.info, run.data
        datasets = tuple(
            RemoteDataset(
                name=d.dataset.name or "",
                digest=d.dataset.digest or "",
                source_type=d.dataset.source_type or "",
                source=d.dataset.source or "",
                context=next((t.value for t in d.tags if t.key == "mlflow.data.context"), ""),
                schema=d.dataset.schema or "",
                profile=d.dataset.profile or "",
            )
            for d in (run.inputs.dataset_inputs if run.inputs else [])
        )
        outputs = run.outputs.model_outputs if getattr(run, "outputs", None) else []
        return RemoteRun(
            run_id=info.run_id,
            experiment_id=str(info.experiment_id),
            name=info.run_name or "",
            status=info.status or "",
            start_time_ms=info.start_time,
            end_time_ms=info.end_time,
            user_id=info.user_id or "",
            lifecycle_stage=info.lifecycle_stage or "",
            artifact_uri=info.artifact_uri or "",
            params=dict(data.params),
            metrics=tuple(_metric(m) for m in data._metric_objs),
            tags=dict(data.tags),
            datasets=datasets,
            logged_model_ids=tuple(o.model_id for o in outputs),
        )

    def _iter_run_pages_json(
        self, experiment_ids: list[str], filter_string: str, page_size: int
    ) -> Iterator[list[RemoteRun]]:
        # The same request MlflowClient.search_runs sends, read as plain JSON: MLflow's
        # protobuf parsing and entity building cost more client CPU than the server
        # spends answering, and a full pass reads every run.
        from mlflow.utils.rest_utils import http_request, verify_rest_response

        endpoint = "/api/2.0/mlflow/runs/search"
        body: dict[str, Any] = {
            "experiment_ids": experiment_ids,
            "filter": filter_string,
            "run_view_type": "ALL",
            "max_results": page_size,
            "order_by": ["attributes.start_time ASC", "attributes.run_id ASC"],
        }
        while True:
            try:
                response = http_request(  # type: ignore[no-untyped-call]
                    self._rest_creds, endpoint, "POST", json=body
                )
                payload = verify_rest_response(response, endpoint).json()
            except (MlflowError, MlflowUnavailable):
                raise
            except Exception as exc:
                raise _translate(exc) from exc
            yield [_run_from_json(run) for run in payload.get("runs", [])]
            token = payload.get("next_page_token")
            if not token:
                return
            body["page_token"] = token

    def metric_history(self, run_id: str, key: str) -> list[RemoteMetric]:
        return [_metric(m) for m in self._call("get_metric_history", run_id, key)]

    def iter_logged_models(
        self, experiment_ids: list[str], filter_string: str = ""
    ) -> Iterator[RemoteLoggedModel]:
        if not experiment_ids:
            return
        for page in self._paged(
            "search_logged_models",
            experiment_ids=experiment_ids,
            filter_string=filter_string or None,
            max_results=100,
        ):
            for lm in page:
                yield RemoteLoggedModel(
                    model_id=lm.model_id,
                    experiment_id=str(lm.experiment_id),
                    run_id=lm.source_run_id or "",
                    name=lm.name or "",
                    status=str(lm.status or ""),
                    artifact_location=lm.artifact_location or "",
                    model_type=lm.model_type or "",
                    params=dict(lm.params or {}),
                    tags=_tags(lm.tags),
                    creation_time_ms=lm.creation_timestamp,
                    last_updated_time_ms=lm.last_updated_timestamp,
                )

    def logged_model_location(self, model_id: str) -> str:
        """Return where a logged model's artifacts (its MLmodel file) live."""
        return str(self._call("get_logged_model", model_id).artifact_location or "")

    def model_metadata(self, model_uri: str) -> ModelMetadata:
        """Read flavors and signature from the MLmodel file behind ``model_uri``."""
        from mlflow.artifacts import download_artifacts
        from mlflow.models import Model

        try:
            with tempfile.TemporaryDirectory(prefix="mlmodel-") as folder:
                path = download_artifacts(
                    artifact_uri=model_uri.rstrip("/") + "/MLmodel",
                    dst_path=folder,
                    tracking_uri=self.tracking_uri,
                    registry_uri=self.tracking_uri,
                )
                model = Model.load(path)
        except ImportError as exc:
            # An artifact store whose client library is not installed here (s3://
            # without boto3, say) cannot be read by any retry: that version simply
            # has no readable metadata.
            raise MlflowError(f"cannot read artifacts at {model_uri!r}: {exc}") from exc
        except Exception as exc:
            raise _translate(exc) from exc
        signature = model.signature.to_dict() if model.signature else None
        if signature:
            # MLflow stores the schemas as JSON strings; keep them as structures.
            signature = {
                k: json.loads(v) if isinstance(v, str) and v[:1] in "[{" else v
                for k, v in signature.items()
            }
        return ModelMetadata(flavors=dict(model.flavors or {}), signature=signature)

    # Registry ---------------------------------------------------------------

    @staticmethod
    def _registered_model(rm: Any) -> RemoteRegisteredModel:
        return RemoteRegisteredModel(
            name=rm.name,
            description=rm.description or "",
            tags=_tags(rm.tags),
            aliases={str(k): int(v) for k, v in (rm.aliases or {}).items()},
            creation_time_ms=rm.creation_timestamp,
            last_updated_time_ms=rm.last_updated_timestamp,
        )

    @staticmethod
    def _model_version(mv: Any) -> RemoteModelVersion:
        return RemoteModelVersion(
            name=mv.name,
            version=int(mv.version),
            source=mv.source or "",
            run_id=mv.run_id or "",
            model_id=getattr(mv, "model_id", None) or _model_id_in(mv.source or ""),
            status=str(mv.status or ""),
            stage=mv.current_stage or "None",
            description=mv.description or "",
            tags=_tags(mv.tags),
            user_id=mv.user_id or "",
            creation_time_ms=mv.creation_timestamp,
            last_updated_time_ms=mv.last_updated_timestamp,
        )

    def iter_registered_models(self) -> Iterator[RemoteRegisteredModel]:
        for page in self._paged("search_registered_models", max_results=1000):
            for rm in page:
                yield self._registered_model(rm)

    def get_registered_model(self, name: str) -> RemoteRegisteredModel:
        return self._registered_model(self._call("get_registered_model", name))

    def iter_model_versions(
        self,
        filter_string: str = "",
        order_by: list[str] | None = None,
        page_size: int = 1000,
    ) -> Iterator[RemoteModelVersion]:
        """Yield versions; MLflow's search does not fill in aliases."""
        for page in self._paged(
            "search_model_versions",
            filter_string=filter_string or None,
            max_results=page_size,
            order_by=order_by,
        ):
            for mv in page:
                yield self._model_version(mv)

    def versions_of(self, name: str) -> list[RemoteModelVersion] | None:
        """Return every live version of one model, or None if its name cannot be quoted.

        MLflow's filter grammar has no escape character: a name holding both kinds of
        quote cannot be written in a filter, and the caller must scan all versions.
        """
        if "'" not in name:
            quoted = f"'{name}'"
        elif '"' not in name:
            quoted = f'"{name}"'
        else:
            return None
        return list(self.iter_model_versions(filter_string=f"name = {quoted}"))

    def get_model_version(self, name: str, version: int) -> RemoteModelVersion:
        return self._model_version(self._call("get_model_version", name, str(version)))

    def set_alias(self, name: str, alias: str, version: int) -> None:
        self._call("set_registered_model_alias", name, alias, str(version))

    def delete_alias(self, name: str, alias: str) -> None:
        self._call("delete_registered_model_alias", name, alias)

    def transition_stage(
        self, name: str, version: int, stage: str, *, archive_existing: bool
    ) -> RemoteModelVersion:
        return self._model_version(
            self._call(
                "transition_model_version_stage",
                name,
                str(version),
                stage,
                archive_existing_versions=archive_existing,
            )
        )
