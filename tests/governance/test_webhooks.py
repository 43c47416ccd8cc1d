"""The MLflow webhook receiver: signatures, freshness, replays, and a real delivery."""

import json
import time
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest
from django.db.models import Model
from django.test import Client
from mlflow import MlflowClient
from mlflow.webhooks.delivery import _generate_hmac_signature
from pytest_django import Settings

from governance import celery_app, tasks
from governance.models import (
    LedgerEntry,
    MlflowSource,
    ModelVersion,
    RegisteredModel,
    SyncRun,
    WebhookDelivery,
)
from governance.webhook_signatures import secret_variable, sign, signature_matches
from tests.support.celery_worker import wait_for
from tests.support.mlflow_server import MlflowServer
from tests.support.registered_versions import register_version

SECRET = "whsec-7d1f0c2e9a4b"
URL = "/hooks/mlflow/hooked/"
CapturedCallbacks = Callable[..., Any]


def payload(entity: str = "model_version", action: str = "created", **data: Any) -> bytes:
    data.setdefault("name", "credit-scorer")
    body = {"entity": entity, "action": action, "timestamp": "2026-01-01T00:00:00", "data": data}
    return json.dumps(body).encode()


def post(
    client: Client,
    body: bytes,
    *,
    url: str = URL,
    secret: str = SECRET,
    delivery_id: str | None = None,
    timestamp: int | None = None,
    signature: str | None = None,
) -> Any:
    delivery_id = delivery_id or str(uuid.uuid4())
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "X-MLflow-Delivery-Id": delivery_id,
        "X-MLflow-Timestamp": stamp,
        "X-MLflow-Signature": signature or sign(secret, delivery_id, stamp, body),
    }
    return client.post(url, data=body, content_type="application/json", headers=headers)


@pytest.fixture
def source(db: None, monkeypatch: pytest.MonkeyPatch) -> MlflowSource:
    monkeypatch.setenv("MLFLOW_WEBHOOK_SECRET_HOOKED", SECRET)
    # Nothing listens there: a sync that ran by mistake would record an error.
    return MlflowSource.objects.create(name="hooked", tracking_uri="http://127.0.0.1:9")


def rejections() -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(action="security.webhook_rejected"))


def assert_nothing_changed(source: MlflowSource) -> None:
    source.refresh_from_db()
    assert source.last_started_at is None
    assert source.last_error == ""
    assert not SyncRun.objects.exists()
    assert not RegisteredModel.objects.exists()
    assert not ModelVersion.objects.exists()
    assert not WebhookDelivery.objects.exists()


def assert_rejected(response: Any, status: int, code: str) -> LedgerEntry:
    assert response.status_code == status
    assert response.json()["error"] == code
    [entry] = rejections()
    assert entry.details["code"] == code
    assert entry.details["status"] == status
    assert entry.precision == "recorded"
    return entry


def test_it_signs_exactly_as_mlflow_does() -> None:
    body = payload(name="modèle <b>€</b>")

    ours = sign(SECRET, "d-1", "1767225600", body)

    assert ours == _generate_hmac_signature(SECRET, "d-1", "1767225600", body.decode())


def test_it_accepts_any_matching_signature_in_a_list() -> None:
    body = payload()
    good = sign(SECRET, "d-1", "17", body)

    assert signature_matches(SECRET, "d-1", "17", body, f"v1,AAAA {good}")
    assert not signature_matches(SECRET, "d-1", "17", body, "v1,AAAA v2,@@@ nonsense")
    assert not signature_matches(SECRET, "d-2", "17", body, good)


def test_it_names_the_secret_variable_after_the_source() -> None:
    assert secret_variable("eu-prod") == "MLFLOW_WEBHOOK_SECRET_EU_PROD"


def test_it_accepts_a_signed_delivery_and_enqueues_a_model_sync(
    client: Client,
    source: MlflowSource,
    django_capture_on_commit_callbacks: CapturedCallbacks,
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(client, payload(name="credit-scorer"), delivery_id="d-accepted")

    assert response.status_code == 202
    assert response.json() == {
        "status": "accepted",
        "delivery_id": "d-accepted",
        "enqueued": "governance.sync_model",
    }
    [callback] = callbacks
    assert isinstance(callback, partial)
    assert callback.func == tasks.sync_model.delay
    assert callback.args == (source.id, "credit-scorer")
    delivery = WebhookDelivery.objects.get()
    assert (delivery.source, delivery.entity, delivery.action) == (
        source,
        "model_version",
        "created",
    )
    assert rejections() == []


def test_it_enqueues_a_source_sync_when_the_delivery_names_no_model(
    client: Client,
    source: MlflowSource,
    django_capture_on_commit_callbacks: CapturedCallbacks,
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(client, payload(name=""))

    assert response.status_code == 202
    assert response.json()["enqueued"] == "governance.sync_source"
    [callback] = callbacks
    assert isinstance(callback, partial)
    assert (callback.func, callback.args) == (tasks.sync_source.delay, (source.id,))


def test_it_accepts_prompt_deliveries_without_syncing(
    client: Client,
    source: MlflowSource,
    django_capture_on_commit_callbacks: CapturedCallbacks,
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(client, payload(entity="prompt_version", name="summarise"))

    assert response.status_code == 202
    assert response.json()["enqueued"] == ""
    assert callbacks == []


def test_it_rejects_a_forged_signature(client: Client, source: MlflowSource) -> None:
    body = payload()
    forged = sign(SECRET, "d-forged", "1", body)  # right secret, wrong signed content

    response = post(client, body, delivery_id="d-forged", signature=forged)

    entry = assert_rejected(response, 401, "bad_signature")
    assert entry.object_id == "d-forged"
    assert entry.source_name == "hooked"
    assert entry.reason == "the signature does not match"
    assert_nothing_changed(source)


def test_it_rejects_a_delivery_signed_with_another_secret(
    client: Client, source: MlflowSource
) -> None:
    response = post(client, payload(), secret="not-the-secret")

    assert_rejected(response, 401, "bad_signature")
    assert_nothing_changed(source)


def test_it_rejects_a_delivery_without_a_signature(client: Client, source: MlflowSource) -> None:
    response = client.post(
        URL,
        data=payload(),
        content_type="application/json",
        headers={"X-MLflow-Delivery-Id": "d-1", "X-MLflow-Timestamp": str(int(time.time()))},
    )

    assert_rejected(response, 401, "missing_signature")
    assert_nothing_changed(source)


def test_it_rejects_a_stale_timestamp(client: Client, source: MlflowSource) -> None:
    response = post(client, payload(), timestamp=int(time.time()) - 301)

    entry = assert_rejected(response, 401, "stale_timestamp")
    assert "at most 300 s are accepted" in entry.reason
    assert_nothing_changed(source)


def test_it_rejects_a_timestamp_from_the_future(client: Client, source: MlflowSource) -> None:
    response = post(client, payload(), timestamp=int(time.time()) + 3600)

    assert_rejected(response, 401, "stale_timestamp")
    assert_nothing_changed(source)


def test_it_rejects_a_timestamp_beyond_the_calendar(client: Client, source: MlflowSource) -> None:
    response = post(client, payload(), timestamp=999_999_999_999)

    assert_rejected(response, 401, "stale_timestamp")
    assert_nothing_changed(source)


def test_it_rejects_a_timestamp_that_is_not_a_number(client: Client, source: MlflowSource) -> None:
    body = payload()
    signature = sign(SECRET, "d-1", "soon", body)
    headers = {
        "X-MLflow-Delivery-Id": "d-1",
        "X-MLflow-Timestamp": "soon",
        "X-MLflow-Signature": signature,
    }

    response = client.post(URL, data=body, content_type="application/json", headers=headers)

    assert_rejected(response, 400, "bad_timestamp")
    assert_nothing_changed(source)


def test_it_rejects_a_replayed_delivery_id(
    client: Client,
    source: MlflowSource,
    django_capture_on_commit_callbacks: CapturedCallbacks,
) -> None:
    body, stamp = payload(), int(time.time())

    with django_capture_on_commit_callbacks() as callbacks:
        first = post(client, body, delivery_id="d-once", timestamp=stamp)
        replay = post(client, body, delivery_id="d-once", timestamp=stamp)

    assert first.status_code == 202
    entry = assert_rejected(replay, 409, "replayed")
    assert entry.reason == "this delivery id was already accepted"
    assert len(callbacks) == 1
    assert WebhookDelivery.objects.count() == 1


def test_it_rejects_malformed_json_even_when_signed(client: Client, source: MlflowSource) -> None:
    response = post(client, b'{"entity": "model_version", "data": ')

    assert_rejected(response, 400, "malformed_json")
    assert_nothing_changed(source)


def test_it_rejects_a_payload_without_entity_and_data(client: Client, source: MlflowSource) -> None:
    response = post(client, json.dumps(["model_version"]).encode())

    assert_rejected(response, 400, "malformed_payload")
    assert_nothing_changed(source)


def test_it_rejects_an_unknown_source(client: Client, source: MlflowSource) -> None:
    response = post(client, payload(), url="/hooks/mlflow/nowhere/")

    entry = assert_rejected(response, 404, "unknown_source")
    assert entry.source_name == "nowhere"
    assert_nothing_changed(source)


def test_it_refuses_deliveries_for_a_disabled_source(client: Client, source: MlflowSource) -> None:
    MlflowSource.objects.filter(pk=source.pk).update(enabled=False)

    response = post(client, payload())

    assert_rejected(response, 403, "source_disabled")
    assert_nothing_changed(source)


def test_it_accepts_a_configured_source_before_its_first_sync(
    db: None,
    client: Client,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: CapturedCallbacks,
) -> None:
    settings.MLFLOW_SOURCES = {"eu-prod": "http://127.0.0.1:9"}
    monkeypatch.setenv("MLFLOW_WEBHOOK_SECRET_EU_PROD", SECRET)

    with django_capture_on_commit_callbacks() as callbacks:
        response = post(client, payload(), url="/hooks/mlflow/eu-prod/")

    assert response.status_code == 202
    source = MlflowSource.objects.get(name="eu-prod")
    assert source.tracking_uri == "http://127.0.0.1:9"
    assert len(callbacks) == 1


def test_it_refuses_deliveries_for_a_source_without_a_secret(
    client: Client, source: MlflowSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_WEBHOOK_SECRET_HOOKED")

    response = post(client, payload(), secret="")

    assert_rejected(response, 403, "not_configured")
    assert_nothing_changed(source)


def test_it_keeps_the_secret_and_signature_out_of_the_ledger(
    client: Client, source: MlflowSource
) -> None:
    signature = sign("guessed-secret", "d-1", "1", b"{}")

    post(client, payload(), delivery_id="d-1", signature=signature)

    [entry] = rejections()
    assert SECRET not in entry.canonical
    assert signature.partition(",")[2] not in entry.canonical
    assert "guessed-secret" not in entry.canonical


def test_it_answers_get_with_405(client: Client, source: MlflowSource) -> None:
    response = client.get(URL)

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert rejections() == []


def test_it_needs_no_csrf_token(source: MlflowSource) -> None:
    strict = Client(enforce_csrf_checks=True)

    response = post(strict, payload(name=""))

    assert response.status_code == 202


@pytest.fixture
def eager_celery() -> Iterator[None]:
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = saved


def mirrored(model: type[Model], **lookup: Any) -> Callable[[], bool]:
    return lambda: model.objects.filter(**lookup).exists()  # type: ignore[attr-defined]


@pytest.mark.django_db(transaction=True)
def test_a_genuine_mlflow_delivery_syncs_the_new_version(
    fresh_mlflow_server: MlflowServer,
    live_server: Any,
    eager_celery: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLFLOW_WEBHOOK_SECRET_LIVE", SECRET)
    source = MlflowSource.objects.create(name="live", tracking_uri=fresh_mlflow_server.uri)
    mlflow = MlflowClient(fresh_mlflow_server.uri)
    mlflow.create_webhook(
        name="governance",
        url=f"{live_server.url}/hooks/mlflow/live/",
        events=["model_version.created"],
        secret=SECRET,
    )
    mlflow.create_registered_model("webhook-delivered")
    experiment_id = mlflow.create_experiment("webhook-training")

    register_version(mlflow, "webhook-delivered", experiment_id)

    wait_for(
        mirrored(ModelVersion, registered_model__source=source, version=1),
        timeout=60,
        what="the delivered version to be mirrored",
    )
    delivery = WebhookDelivery.objects.get(source=source)
    assert (delivery.entity, delivery.action) == ("model_version", "created")
    assert delivery.model_name == "webhook-delivered"
    assert rejections() == []
