"""The WSGI module loads every view when a server process starts, not on its first request."""

import os
import subprocess
import sys

from django.conf import settings


def test_importing_the_application_imports_the_views() -> None:
    probe = (
        "import sys, governance.wsgi; "
        "print(all(name in sys.modules for name in "
        "('registry_ui.views.runs', 'governance.api.urls', 'governance.mlflow_gateway')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "governance.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    assert result.stdout.strip() == "True", result.stderr
