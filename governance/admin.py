"""Django admin: sync status for admins, read-only views of mirror and ledger."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from governance.models import LedgerEntry, MlflowSource, SyncRun, WebhookDelivery


@admin.register(MlflowSource)
class MlflowSourceAdmin(admin.ModelAdmin[MlflowSource]):
    list_display = [
        "name",
        "tracking_uri",
        "enabled",
        "last_success_at",
        "last_error_at",
        "last_duration_ms",
    ]
    readonly_fields = [
        "runs_watermark_ms",
        "versions_watermark_ms",
        "last_started_at",
        "last_success_at",
        "last_full_success_at",
        "last_error",
        "last_error_at",
        "last_counts",
        "last_duration_ms",
    ]


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin[SyncRun]):
    list_display = ["source", "kind", "status", "started_at", "finished_at"]
    list_filter = ["source", "kind", "status"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin[LedgerEntry]):
    list_display = ["seq", "recorded_at", "action", "actor_username", "model_name", "version"]
    list_filter = ["action"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin[WebhookDelivery]):
    """Accepted deliveries, read-only: refused ones are in the ledger."""

    list_display = ["received_at", "source", "entity", "action", "model_name", "task_name"]
    list_filter = ["source", "entity"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
