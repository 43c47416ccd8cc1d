"""WSGI entry point."""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
application = get_wsgi_application()
# Import every view now (MLflow's client among them, about 2 s) rather than in the
# first request each server process answers.
get_resolver().url_patterns  # noqa: B018
