"""Application config for the reviewer pages."""

from django.apps import AppConfig


class RegistryUiConfig(AppConfig):
    name = "registry_ui"
    verbose_name = "Registry review pages"
