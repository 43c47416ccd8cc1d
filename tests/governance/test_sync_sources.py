"""Sources come from the settings: MLFLOW_TRACKING_URI is "default", more by name."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from pytest_django import Settings

from governance.models import MlflowSource
from governance.sources import ensure_sources

pytestmark = pytest.mark.django_db


def test_it_creates_one_source_per_configured_server_in_order(settings: Settings) -> None:
    settings.MLFLOW_SOURCES = {"default": "http://127.0.0.1:5000", "eu": "http://eu:5000"}

    sources = ensure_sources()

    assert [(s.name, s.tracking_uri) for s in sources] == [
        ("default", "http://127.0.0.1:5000"),
        ("eu", "http://eu:5000"),
    ]
    assert ensure_sources() == sources
    assert MlflowSource.objects.count() == 2


def test_it_follows_a_source_that_moved_and_keeps_its_sync_state(settings: Settings) -> None:
    source = MlflowSource.objects.create(
        name="default", tracking_uri="http://old:5000", runs_watermark_ms=42
    )
    settings.MLFLOW_SOURCES = {"default": "http://new:5000"}

    (moved,) = ensure_sources()

    assert moved.pk == source.pk and moved.tracking_uri == "http://new:5000"
    assert moved.runs_watermark_ms == 42


def test_it_rejects_a_source_name_that_is_not_a_slug(settings: Settings) -> None:
    settings.MLFLOW_SOURCES = {"Bad Name": "http://127.0.0.1:5000"}

    with pytest.raises(ImproperlyConfigured, match="MLflow source names must be slugs"):
        ensure_sources()
