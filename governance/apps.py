"""Application config for the governance domain."""

from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Model governance"
    default_auto_field = "django.db.models.BigAutoField"
