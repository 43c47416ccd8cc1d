"""Create and update the configured MLflow sources."""

import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.text import slugify

from governance.models import MlflowSource
from governance.sync.context import redact_uri

logger = logging.getLogger(__name__)


def ensure_sources() -> list[MlflowSource]:
    """Make a source row for each configured server; return them in configured order."""
    sources: list[MlflowSource] = []
    for name, uri in settings.MLFLOW_SOURCES.items():
        if slugify(name) != name or len(name) > 64:
            raise ImproperlyConfigured(f"MLflow source names must be slugs, got {name!r}")
        source, created = MlflowSource.objects.get_or_create(
            name=name, defaults={"tracking_uri": uri}
        )
        if created:
            logger.info("source %s (%s) created for %s", source.pk, name, redact_uri(uri))
        elif source.tracking_uri != uri:
            source.tracking_uri = uri
            source.save(update_fields=["tracking_uri"])
            logger.info("source %s (%s) now points at %s", source.pk, name, redact_uri(uri))
        sources.append(source)
    return sources
