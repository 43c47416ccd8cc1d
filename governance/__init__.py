"""Model governance for MLflow: mirror, workflow, ledger."""

from governance.celery import app as celery_app

__all__ = ["celery_app"]
